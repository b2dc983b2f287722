//! Only number literals are supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * "two"
}

fn main() {}
