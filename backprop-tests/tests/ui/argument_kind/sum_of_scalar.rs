//! A reduction needs an array.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> T {
    let c = 3.0;
    x.sum() + c.sum()
}

fn main() {}
