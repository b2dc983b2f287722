//! Assignment is not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0;
    y = y + 1.0;
    y
}

fn main() {}
