//! Integer arrays cannot go into an elementwise op.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(labels: ArrayView1<usize>) -> Array1<T> {
    exp(labels)
}

fn main() {}
