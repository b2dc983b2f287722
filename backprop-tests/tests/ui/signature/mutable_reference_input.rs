//! &mut inputs are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: &mut Array2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
