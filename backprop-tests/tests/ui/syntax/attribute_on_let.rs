//! Other attributes on a `let` mean nothing in the language either.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    #[allow(unused)]
    let s = sigmoid(x);
    s * x
}

fn main() {}
