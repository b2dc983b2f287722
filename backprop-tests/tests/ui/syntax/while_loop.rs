//! while is a loop too.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = while false {};
    x + y
}

fn main() {}
