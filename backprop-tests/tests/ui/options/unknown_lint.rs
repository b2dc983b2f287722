//! A lint name that does not exist, with a "did you mean".
use backprop::prelude::*;

#[differentiable(allow(unused_inputs))]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
