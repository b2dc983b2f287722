//! `deny(nan_through_where)` makes it an error, and nothing else cascades from it.
use backprop::prelude::*;

#[differentiable(deny(nan_through_where))]
pub fn safe_ln<T: Real>(x: ArrayView1<T>) -> T {
    where_(x > 1.0, ln(x - 1.0), x * 0.0).sum()
}

fn main() {
    let x = Array1::<f64>::ones(3);
    let (_, saved) = safe_ln_train(x.view());
    let _ = safe_ln_backward(&saved, 1.0).x;
}
