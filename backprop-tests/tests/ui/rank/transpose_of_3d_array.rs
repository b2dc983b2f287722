//! Transpose is for 2-D arrays.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView3<T>) -> Array3<T> {
    x.t()
}

fn main() {}
