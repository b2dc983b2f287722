//! Options are key = value.
use backprop::prelude::*;

#[differentiable("layer")]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
