//! No warning above the end: the lint allowed; the maximum subtracted first;
//! arguments bounded above (`tanh`, `-x^2`, `-softplus`, `log_softmax`).
use backprop::prelude::*;

#[differentiable(allow(unbounded_exp))]
pub fn allowed<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    exp(x)
}

#[differentiable]
pub fn stable_softmax<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let e = exp(x - max_axis(x, Axis(1)).insert_axis(Axis(1)));
    &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1))
}

#[differentiable]
pub fn bounded<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    exp(tanh(x)) + exp(-x.square()) + exp(-softplus(x)) + exp(log_softmax(x, Axis(1)))
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
