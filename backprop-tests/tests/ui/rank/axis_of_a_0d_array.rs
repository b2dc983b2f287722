//! A 0-d array has no axes: the help says so instead of "0 to 0".
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array1<T> {
    x.sum().sum_axis(Axis(0))
}

fn main() {}
