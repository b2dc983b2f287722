//! round has no derivative.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T {
    round(x.dot(&w)).sum()
}

fn main() {}
