//! dot is for 1-D and 2-D arrays.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView3<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w)
}

fn main() {}
