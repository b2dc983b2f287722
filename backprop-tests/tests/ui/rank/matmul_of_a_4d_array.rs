//! matmul takes [b, n, k] on the left.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView4<T>, w: ArrayView2<T>) -> Array4<T> {
    matmul(x, &w)
}

fn main() {}
