//! The bounds of slice_axis are a range.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, h: usize) -> Array2<T> {
    x.slice_axis(Axis(1), h)
}

fn main() {}
