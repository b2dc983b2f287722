//! Remainder is not an operator of the language.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x % 2.0
}

fn main() {}
