//! An elementwise op of a constant is rejected.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * sigmoid(2.0)
}

fn main() {}
