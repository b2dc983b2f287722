use backprop::prelude::*;

/// Scaled dot-product attention for one head: a value used three times (fan-out).
#[differentiable]
pub fn attention<T: Real>(q: ArrayView2<T>, k: ArrayView2<T>, v: ArrayView2<T>, #[no_grad] scale: T) -> Array2<T> {
    let scores = q.dot(&k.t()) * scale;
    let weights = softmax(scores, Axis(1));
    weights.dot(&v)
}
