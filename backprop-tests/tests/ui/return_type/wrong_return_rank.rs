//! The final expression has another rank than the return type.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array1<T> {
    x.dot(&w)
}

fn main() {}
