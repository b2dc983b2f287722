//! `Axis(k)` on its own is not a value of the language.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array1<T> {
    let axis = Axis(1);
    x.sum_axis(axis)
}

fn main() {}
