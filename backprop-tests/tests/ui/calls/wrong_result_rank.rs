use backprop::prelude::*;

#[differentiable]
fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w))
}

// `dense` returns a 2-D array; rustc says so at the declaration.
#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T {
    let h: Array1<T> = dense(x, w);
    h.sum()
}

fn main() {}
