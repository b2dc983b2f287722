//! Integer arrays cannot be multiplied.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, ids: ArrayView1<usize>) -> Array1<T> {
    x.dot(&ids)
}

fn main() {}
