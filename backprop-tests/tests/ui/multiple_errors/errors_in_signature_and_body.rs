//! Signature errors do not hide body errors.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, names: Vec<String>) -> Array2<T> {
    let y = x.frobnicate();
    y
}

fn main() {}
