//! Integer arrays hold `usize`.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(q: ArrayView2<T>, actions: ArrayView1<i32>) -> Array1<T> {
    pick(q, &actions)
}

fn main() {}
