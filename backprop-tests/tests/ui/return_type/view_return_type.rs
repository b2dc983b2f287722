//! The return type is owned.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> ArrayView2<T> {
    x.view()
}

fn main() {}
