use backprop::prelude::*;

/// A plain function: its backward does not exist.
fn cube_it<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.mapv(|v| v * v * v)
}

#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y: Array2<T> = cube_it(x);
    y
}

fn main() {}
