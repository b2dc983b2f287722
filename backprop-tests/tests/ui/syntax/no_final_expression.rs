//! The body must end with the returned expression.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0;
}

fn main() {}
