//! `ln` of a softmax (also of the entries picked from it) and of a sigmoid:
//! -inf and a NaN gradient once they round to 0.
use backprop::prelude::*;

#[differentiable]
pub fn nll<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    -pick(ln(softmax(scores, Axis(1))), &labels).mean()
}

#[differentiable]
pub fn log_likelihood<T: Real>(z: ArrayView1<T>) -> T {
    ln(sigmoid(z)).sum()
}

/// The CS231n form: the probability of the right class picked first.
#[differentiable]
pub fn picked_nll<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    -ln(pick(softmax(scores, Axis(1)), &labels)).mean()
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
