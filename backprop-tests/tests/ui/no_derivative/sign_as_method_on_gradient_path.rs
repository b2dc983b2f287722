//! sign called as a method has no derivative either.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.sign() * x
}

fn main() {}
