//! The alpha of leaky_relu must be a constant, not an array input.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, alpha: ArrayView2<T>) -> Array2<T> {
    leaky_relu(x, alpha)
}

fn main() {}
