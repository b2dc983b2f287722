//! let-else is not supported.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x else { return x.to_owned() };
    y * 2.0
}

fn main() {}
