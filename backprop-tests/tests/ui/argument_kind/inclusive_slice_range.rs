//! slice_axis takes an exclusive range.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.slice_axis(Axis(1), 0..=2)
}

fn main() {}
