//! Integer inputs are usize.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, n: i32) -> Array2<T> {
    x * 2.0
}

fn main() {}
