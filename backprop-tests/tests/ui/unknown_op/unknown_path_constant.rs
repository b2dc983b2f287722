//! A path that is not a known constant is rejected.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * std::f64::consts::TAU
}

fn main() {}
