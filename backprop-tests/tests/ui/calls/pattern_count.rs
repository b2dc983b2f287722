use backprop::prelude::*;

#[differentiable]
fn gates<T: Real>(x: ArrayView2<T>) -> (Array2<T>, Array2<T>) {
    (sigmoid(x), tanh(x))
}

#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let (a, b, c): (Array2<T>, Array2<T>) = gates(x);
    a + b + c
}

fn main() {}
