//! `deny(clip_zero_gradient)` makes it an error, and nothing else cascades from it.
use backprop::prelude::*;

#[differentiable(deny(clip_zero_gradient))]
pub fn dqn_loss<T: Real>(q: ArrayView1<T>, #[no_grad] target: ArrayView1<T>) -> T {
    clip(target - q, -1.0, 1.0).square().mean()
}

fn main() {
    let q = Array1::<f64>::zeros(3);
    let (_, saved) = dqn_loss_train(q.view(), q.view());
    let _ = dqn_loss_backward(&saved, 1.0).q;
}
