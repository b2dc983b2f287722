//! no_grad on an integer input is redundant.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(q: ArrayView2<T>, #[no_grad] a: ArrayView1<usize>) -> Array1<T> {
    pick(q, &a)
}

fn main() {}
