//! `deny(singular_at_zero)` makes it an error, and nothing else cascades from it.
use backprop::prelude::*;

#[differentiable(deny(singular_at_zero))]
pub fn norm<T: Real>(x: ArrayView1<T>) -> T {
    sqrt(x.square().sum())
}

fn main() {
    let x = Array1::<f64>::ones(3);
    let (_, saved) = norm_train(x.view());
    let _ = norm_backward(&saved, 1.0).x;
}
