//! as casts are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, n: usize) -> Array2<T> {
    x / (n as f64)
}

fn main() {}
