//! match is not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, n: usize) -> Array2<T> {
    let y = match n {
        0 => x * 2.0,
        _ => x * 3.0,
    };
    y
}

fn main() {}
