use backprop::prelude::*;

#[differentiable]
fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w))
}

// The macro cannot see `dense`'s signature: its result type must be declared.
#[differentiable]
fn twice<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    relu(dense(x, w))
}

fn main() {}
