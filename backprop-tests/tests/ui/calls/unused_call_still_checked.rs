use backprop::prelude::*;

#[differentiable]
fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w))
}

// A call whose result nothing reads is removed by the passes, and still checked.
#[differentiable(allow(unused_let))]
fn caller<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let unused: Array2<T> = dense(x);
    relu(x)
}

fn main() {}
