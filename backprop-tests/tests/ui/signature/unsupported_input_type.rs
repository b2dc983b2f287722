//! A Vec input is not an array of the language.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: Vec<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
