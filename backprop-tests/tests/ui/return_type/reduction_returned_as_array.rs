//! A full reduction is a scalar.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array1<T> {
    x.mean()
}

fn main() {}
