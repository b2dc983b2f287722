//! A parameter that takes a gradient must be a `Param`, not a plain array.
use backprop::prelude::*;

pub struct Dense<T: Real> {
    pub w: Array2<T>,
}

#[differentiable(layer = Dense)]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w)
}

fn main() {}
