//! A run-time exponent of `powi` must be an integer input, not a float one.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, #[no_grad] p: T) -> Array2<T> {
    powi(x, p)
}

fn main() {}
