//! A concrete function uses one float type.
use backprop::prelude::*;

#[differentiable]
pub fn f(x: ArrayView2<f32>, w: ArrayView2<f64>) -> Array2<f32> {
    x.dot(&w)
}

fn main() {}
