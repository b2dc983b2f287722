//! Closures are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let g = |v: T| v * v;
    x * g
}

fn main() {}
