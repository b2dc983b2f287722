//! A layer's first input is its input array.
use backprop::prelude::*;

pub struct Scale<T: Real> {
    pub x: Param<T, Ix2>,
}

#[differentiable(layer = Scale)]
pub fn scale<T: Real>(s: T, x: ArrayView2<T>) -> Array2<T> {
    x * s
}

fn main() {}
