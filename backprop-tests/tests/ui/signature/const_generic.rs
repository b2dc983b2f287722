//! Const generics are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real, const N: usize>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
