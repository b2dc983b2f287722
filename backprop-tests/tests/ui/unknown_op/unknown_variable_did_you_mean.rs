//! A misspelled binding name suggests the name in scope.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    let hidden = x.dot(&w);
    relu(hiden)
}

fn main() {}
