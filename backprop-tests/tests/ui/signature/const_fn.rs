//! const fn is not supported.
use backprop::prelude::*;

#[differentiable]
pub const fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
