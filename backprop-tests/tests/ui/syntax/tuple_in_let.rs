//! Tuples are only for the final expression.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let pair = (x, x);
    x * 2.0
}

fn main() {}
