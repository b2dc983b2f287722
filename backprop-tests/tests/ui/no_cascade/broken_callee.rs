//! A callee with an error in its body: the one error is the callee's, and the
//! caller, which uses it, compiles against its stubs.
use backprop::prelude::*;

#[differentiable]
fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanhh(x.dot(&w))
}

#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T {
    let h: Array2<T> = dense(x, w);
    h.sum()
}

fn main() {
    let x = ndarray::Array2::<f64>::ones((2, 2));
    let (_, saved) = caller_train(x.view(), x.view());
    let _ = caller_backward(&saved, 1.0).w;
}
