//! An op with a constant parameter needs it.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    leaky_relu(x)
}

fn main() {}
