//! An expression statement does nothing.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0;
    x * 3.0
}

fn main() {}
