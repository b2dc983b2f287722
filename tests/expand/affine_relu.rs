use backprop::prelude::*;

/// A fully connected layer followed by a ReLU.
#[differentiable]
pub fn affine_relu<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z = x.dot(&w) + &b;
    relu(z)
}
