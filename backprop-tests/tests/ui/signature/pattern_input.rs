//! Inputs are plain names.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>((x, y): (ArrayView2<T>, ArrayView2<T>)) -> Array2<T> {
    x + y
}

fn main() {}
