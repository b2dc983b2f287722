//! The indices of take_along_axis have the rank of the values.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, idx: ArrayView1<usize>) -> Array2<T> {
    take_along_axis(x, &idx, Axis(1))
}

fn main() {}
