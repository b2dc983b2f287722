//! The function must return a value.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) {
    x * 2.0
}

fn main() {}
