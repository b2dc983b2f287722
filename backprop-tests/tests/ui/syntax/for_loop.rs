//! Loops are not part of the language.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    for _ in 0..3 {
        x;
    }
    x.to_owned()
}

fn main() {}
