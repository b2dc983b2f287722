//! The final tuple has as many values as the return type.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> (Array2<T>, Array2<T>) {
    (x * 2.0, x * 3.0, x * 4.0)
}

fn main() {}
