//! Indexing with [] is not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array1<T> {
    let row = x[0];
    row
}

fn main() {}
