//! The parts of concatenate are a list.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(a: ArrayView2<T>) -> Array2<T> {
    concatenate(Axis(1), a)
}

fn main() {}
