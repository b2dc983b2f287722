//! A function returning a tuple: an array and a scalar, each with its own upstream gradient.
use backprop::prelude::*;
use backprop::{DynValue, GradCheck, check_function};
use ndarray::array;

#[differentiable]
pub fn probs_and_loss<T: Real>(logits: ArrayView2<T>, labels: ArrayView1<usize>) -> (Array2<T>, T) {
    let p = softmax(logits, Axis(1));
    let logp = log_softmax(logits, Axis(1));
    let nll = -pick(logp, &labels).mean();
    (p, nll)
}

fn main() {
    let logits = array![[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]];
    let labels = array![1usize, 2];
    let (p, loss) = probs_and_loss(logits.view(), labels.view());
    assert!((p.sum_axis(Axis(1))[0] - 1.0f64).abs() < 1e-12);
    assert!(loss > 0.0);
    let inputs = [DynValue::Float(logits.into_dyn()), DynValue::Int(labels.into_dyn())];
    check_function(&probs_and_loss_dyn::<f64>(), &inputs, &GradCheck::default()).assert_passed();
}
