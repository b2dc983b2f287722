//! Ranks go up to 6.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView<T, Ix7>) -> T {
    x.sum()
}

fn main() {}
