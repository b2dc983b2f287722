//! No warning above the end: the lint allowed; an epsilon inside the root; a
//! value that never reaches 0 (`softplus`); `ln` of an input (its range is the
//! caller's to know); a norm of an input no parameter reaches.
use backprop::prelude::*;

#[differentiable(allow(singular_at_zero))]
pub fn allowed<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let norm = sqrt(x.square().sum_axis(Axis(1)));
    &x / &norm.insert_axis(Axis(1))
}

#[differentiable]
pub fn with_epsilon<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let norm = sqrt(x.square().sum_axis(Axis(1)) + 1e-12);
    &x / &norm.insert_axis(Axis(1))
}

#[differentiable]
pub fn clamped<T: Real>(x: ArrayView1<T>) -> T {
    ln(softplus(x)).sum()
}

#[differentiable]
pub fn log_of_input<T: Real>(x: ArrayView1<T>) -> T {
    ln(x).sum()
}

#[differentiable]
pub fn fixed_scale<T: Real>(x: ArrayView1<T>, #[no_grad] s: ArrayView1<T>) -> T {
    (&x / sqrt(s.square().sum())).sum()
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
