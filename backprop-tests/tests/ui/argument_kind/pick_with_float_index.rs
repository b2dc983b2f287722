//! The index of pick must be a usize array, not floats.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(q: ArrayView2<T>, actions: ArrayView1<T>) -> Array1<T> {
    pick(q, &actions)
}

fn main() {}
