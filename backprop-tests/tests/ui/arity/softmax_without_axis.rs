//! softmax needs an axis.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    softmax(x)
}

fn main() {}
