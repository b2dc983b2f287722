//! `deny(unused_let)` makes it an error.
use backprop::prelude::*;

#[differentiable(deny(unused_let))]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let unused = sigmoid(x);
    x * 2.0
}

fn main() {}
