//! `check(..)` values that do not fit their inputs: a shape of the wrong rank,
//! an integer array without its bound, a scalar given a shape, an input twice.
use backprop::prelude::*;

#[differentiable(check(scores = [4], labels = [4], eps = [1], scores = [4, 3]))]
pub fn loss<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>, #[no_grad] eps: T) -> T {
    pick(log_softmax(scores, Axis(1)), &labels).mean() * (1.0 - eps)
}

fn main() {}
