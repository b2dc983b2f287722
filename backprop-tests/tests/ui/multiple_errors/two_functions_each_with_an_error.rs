//! Each function reports its own error.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    tanhh(x)
}

#[differentiable]
pub fn g<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0;
    y += 1.0;
    y
}

fn main() {}
