//! An op named without calling it says how to call it.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0;
    y + tanh
}

fn main() {}
