//! floor has no derivative and a gradient would flow through it.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = floor(x);
    y * 2.0
}

fn main() {}
