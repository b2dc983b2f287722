//! `deny(unbounded_exp)` makes it an error, and nothing else cascades from it.
use backprop::prelude::*;

#[differentiable(deny(unbounded_exp))]
pub fn growth<T: Real>(x: ArrayView1<T>) -> T {
    exp(x * 2.0).sum()
}

fn main() {
    let x = Array1::<f64>::zeros(3);
    let (_, saved) = growth_train(x.view());
    let _ = growth_backward(&saved, 1.0).x;
}
