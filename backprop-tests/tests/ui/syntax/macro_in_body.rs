//! Macros in the body are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    println!("forward");
    x * 2.0
}

fn main() {}
