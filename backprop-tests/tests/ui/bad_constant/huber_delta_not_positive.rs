//! `huber` with a negative delta is not a loss at all.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView1<T>) -> T {
    huber(x, -1.0).mean()
}

fn main() {}
