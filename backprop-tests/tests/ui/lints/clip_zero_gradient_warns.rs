//! The DQN bug: a clipped TD error before the square has a zero gradient for
//! every sample whose error is outside [-1, 1]; and a `maximum` with a constant.
use backprop::prelude::*;

#[differentiable]
pub fn dqn_loss<T: Real>(q: ArrayView1<T>, #[no_grad] target: ArrayView1<T>) -> T {
    clip(target - q, -1.0, 1.0).square().mean()
}

#[differentiable]
pub fn floored<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T {
    maximum(x.dot(&w), 0.5).sum()
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
