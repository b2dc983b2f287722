//! A tuple return type needs a tuple expression.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> (Array2<T>, T) {
    x * 2.0
}

fn main() {}
