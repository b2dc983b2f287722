//! `deny(unstable_log)` makes it an error, and nothing else cascades from it.
use backprop::prelude::*;

#[differentiable(deny(unstable_log))]
pub fn log_likelihood<T: Real>(z: ArrayView1<T>) -> T {
    ln(sigmoid(z)).sum()
}

fn main() {
    let z = Array1::<f64>::zeros(3);
    let (_, saved) = log_likelihood_train(z.view());
    let _ = log_likelihood_backward(&saved, 1.0).z;
}
