//! A mask is only a where_ condition.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let m = x > 0.0;
    x * m
}

fn main() {}
