//! Items inside the function are not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    const TWO: f64 = 2.0;
    x * 2.0
}

fn main() {}
