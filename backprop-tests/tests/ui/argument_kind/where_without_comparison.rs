//! The condition of where_ must be a comparison.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>) -> Array2<T> {
    where_(x, x, y)
}

fn main() {}
