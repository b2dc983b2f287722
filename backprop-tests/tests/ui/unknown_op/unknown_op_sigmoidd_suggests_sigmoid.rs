//! A misspelled op name gets a did-you-mean with the op's usage.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    sigmoidd(x)
}

fn main() {}
