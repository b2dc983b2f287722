//! A name with no close match lists the names in scope.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&weights)
}

fn main() {}
