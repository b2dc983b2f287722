//! A usize is a size, not a float.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, n: usize) -> Array2<T> {
    x / n
}

fn main() {}
