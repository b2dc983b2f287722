//! nrows needs a 2-D array.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView1<T>) -> Array1<T> {
    x.slice_axis(Axis(0), 0..x.nrows())
}

fn main() {}
