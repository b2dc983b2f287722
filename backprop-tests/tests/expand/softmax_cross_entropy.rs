use backprop::prelude::*;

/// Mean softmax cross-entropy of class scores against integer labels.
#[differentiable]
pub fn softmax_cross_entropy<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    let log_probs = log_softmax(scores, Axis(1));
    -pick(log_probs, &labels).mean()
}
