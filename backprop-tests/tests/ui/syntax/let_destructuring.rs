//! let binds one name.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>) -> Array2<T> {
    let (a, b) = (x * 2.0, y * 2.0);
    a + b
}

fn main() {}
