//! The struct has no field for the input `b`: one error, at the input.
use backprop::prelude::*;

pub struct Dense<T: Real> {
    pub w: Param<T, Ix2>,
}

#[differentiable(layer = Dense)]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w) + &b
}

fn main() {}
