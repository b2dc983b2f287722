//! The field `b` is a 2-D parameter but the input is 1-D: one error, at the input,
//! with the declaration that fits.
use backprop::prelude::*;

pub struct Dense<T: Real> {
    pub w: Param<T, Ix2>,
    pub b: Param<T, Ix2>,
}

#[differentiable(layer = Dense)]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w) + &b
}

fn main() {}
