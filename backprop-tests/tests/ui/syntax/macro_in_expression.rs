//! A macro inside an expression is not supported either.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let s = dbg!(x);
    s * 2.0
}

fn main() {}
