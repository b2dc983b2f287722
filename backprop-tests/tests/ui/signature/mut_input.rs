//! Inputs cannot be mut.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(mut x: Array2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
