use backprop::prelude::*;

#[differentiable]
fn gates<T: Real>(x: ArrayView2<T>) -> (Array2<T>, Array2<T>) {
    (sigmoid(x), tanh(x))
}

#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let (a, a): (Array2<T>, Array2<T>) = gates(x);
    a
}

fn main() {}
