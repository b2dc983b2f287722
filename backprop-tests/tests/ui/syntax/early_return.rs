//! A `return` before the end of the body is not supported: the function returns its final expression.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0;
    return y;
    y * 3.0
}

fn main() {}
