//! An axis is a compile-time constant.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, k: usize) -> Array1<T> {
    x.sum_axis(Axis(k))
}

fn main() {}
