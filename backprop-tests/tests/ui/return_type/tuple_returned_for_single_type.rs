//! A tuple at the end of a function that declares one output.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    (x * 2.0, x.sum())
}

fn main() {}
