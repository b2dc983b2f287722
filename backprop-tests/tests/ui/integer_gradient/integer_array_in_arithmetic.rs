//! Integer arrays cannot be in arithmetic.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, labels: ArrayView1<usize>) -> Array2<T> {
    x * labels
}

fn main() {}
