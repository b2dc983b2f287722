//! pick takes a 2-D array of values.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(q: ArrayView1<T>, actions: ArrayView1<usize>) -> Array1<T> {
    pick(q, &actions)
}

fn main() {}
