//! No warning above the end: the lint allowed; `huber`; a clip of a value no
//! parameter reaches; a bound that is an input, not a constant; a clip whose
//! result is not a scalar loss; `relu`.
use backprop::prelude::*;

#[differentiable(allow(clip_zero_gradient))]
pub fn allowed<T: Real>(q: ArrayView1<T>, #[no_grad] target: ArrayView1<T>) -> T {
    clip(target - q, -1.0, 1.0).square().mean()
}

#[differentiable]
pub fn dqn_huber<T: Real>(q: ArrayView1<T>, #[no_grad] target: ArrayView1<T>) -> T {
    huber(target - q, 1.0).mean()
}

#[differentiable]
pub fn clipped_target<T: Real>(q: ArrayView1<T>, #[no_grad] target: ArrayView1<T>) -> T {
    (clip(target, 0.0, 1.0) - q).square().mean()
}

#[differentiable]
pub fn input_bound<T: Real>(x: ArrayView1<T>, y: ArrayView1<T>) -> T {
    minimum(x, y).sum()
}

#[differentiable]
pub fn array_output<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    clip(x, -1.0, 1.0)
}

#[differentiable]
pub fn with_relu<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T {
    relu(x.dot(&w)).sum()
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
