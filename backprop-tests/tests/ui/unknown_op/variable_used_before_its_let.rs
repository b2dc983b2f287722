//! A name is only in scope after its let.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let a = b * 2.0;
    let b = x + 1.0;
    a + b
}

fn main() {}
