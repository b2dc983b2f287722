//! `clip(x, 1.0, -1.0)` used to compile into a constant with zero gradient.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    clip(x, 1.0, -1.0)
}

fn main() {}
