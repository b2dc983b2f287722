use backprop::prelude::*;

/// The W2 benchmark: a long elementwise chain reduced to a scalar.
#[differentiable]
pub fn elementwise_chain<T: Real>(x: ArrayView2<T>) -> T {
    let gated = x * sigmoid(x * 1.702);
    let squashed = tanh(x).square() * 0.5;
    let damped = softplus(x) / (x.square() + 1.0);
    (gated + squashed - damped).sum()
}
