//! A concrete float scalar in a function generic over `T`.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, #[no_grad] scale: f64) -> Array2<T> {
    x * scale
}

fn main() {}
