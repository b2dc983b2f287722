use backprop::prelude::*;

#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y: Vec<T> = features(x);
    x
}

fn main() {}
