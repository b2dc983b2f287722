//! Integer arrays are not outputs.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, ids: ArrayView1<usize>) -> (Array2<T>, Array1<T>) {
    (x * 2.0, ids)
}

fn main() {}
