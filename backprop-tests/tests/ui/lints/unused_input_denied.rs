//! `deny(unused_input)` makes it an error, and nothing else cascades from it.
use backprop::prelude::*;

#[differentiable(deny(unused_input))]
pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w)
}

fn main() {
    let x = Array2::<f64>::zeros((1, 2));
    let (_, saved) = affine_train(x.view(), x.t(), Array1::zeros(1).view());
    let _ = affine_backward(&saved, x.view()).b;
}
