//! No warning above the end: the lint allowed; `log_softmax`; the stable form of
//! `ln(sigmoid(z))`; `ln` of something else.
use backprop::prelude::*;

#[differentiable(allow(unstable_log))]
pub fn allowed<T: Real>(z: ArrayView1<T>) -> T {
    ln(sigmoid(z)).sum()
}

#[differentiable]
pub fn nll<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    -pick(log_softmax(scores, Axis(1)), &labels).mean()
}

#[differentiable]
pub fn log_likelihood<T: Real>(z: ArrayView1<T>) -> T {
    (-softplus(-z)).sum()
}

#[differentiable]
pub fn log_of_softplus<T: Real>(z: ArrayView1<T>) -> T {
    ln(softplus(z) + 1.0).sum()
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
