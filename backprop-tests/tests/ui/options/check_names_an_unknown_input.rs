//! `check(..)` names something that is not an input, and leaves one out.
use backprop::prelude::*;

#[differentiable(check(x = [4, 3], weights = [3, 2]))]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w)
}

fn main() {}
