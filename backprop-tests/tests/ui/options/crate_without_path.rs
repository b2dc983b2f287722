//! `crate` needs a path.
use backprop::prelude::*;

#[differentiable(crate)]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
