use backprop::prelude::*;

#[differentiable]
fn dense32(x: ArrayView2<f32>, w: ArrayView2<f32>) -> Array2<f32> {
    tanh(x.dot(&w))
}

// A generic caller cannot call a function of `f32` only.
#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    let h: Array2<T> = dense32(x, w);
    h
}

fn main() {}
