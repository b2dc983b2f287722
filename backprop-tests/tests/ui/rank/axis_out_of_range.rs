//! An axis beyond the rank is rejected at the axis.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    softmax(x, Axis(2))
}

fn main() {}
