//! A method called with too few arguments counts the receiver.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.dot()
}

fn main() {}
