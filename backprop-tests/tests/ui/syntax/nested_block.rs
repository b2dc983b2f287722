//! Blocks are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = {
        let z = x * 2.0;
        z + 1.0
    };
    y
}

fn main() {}
