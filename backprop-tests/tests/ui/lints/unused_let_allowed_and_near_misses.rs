//! `allow(unused_let)`, a `_name` binding, and a shadowed binding that is read
//! before it is shadowed: no warning above the end.
use backprop::prelude::*;

#[differentiable(allow(unused_let))]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let unused = sigmoid(x);
    x
}

#[differentiable]
pub fn g<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let _kept = sigmoid(x);
    let z = tanh(x);
    let z = z * 2.0;
    z
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
