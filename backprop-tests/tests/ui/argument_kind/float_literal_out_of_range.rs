//! A float literal beyond `f64::MAX` is an error, as in Rust.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 1e400
}

fn main() {}
