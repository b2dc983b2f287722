//! At most one type parameter.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real, U: Real>(x: ArrayView2<T>, y: ArrayView2<U>) -> Array2<T> {
    x * 2.0
}

fn main() {}
