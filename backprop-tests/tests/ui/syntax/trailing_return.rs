//! `return` at the end: one error at `return`, and the returned expression is still checked.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, labels: ArrayView1<usize>) -> Array2<T> {
    return x * labels;
}

fn main() {}
