use backprop::prelude::*;

#[differentiable]
fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    tanh(x.dot(&w) + &b)
}

// `dense` takes three inputs.
#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    dense(x, w)
}

fn main() {}
