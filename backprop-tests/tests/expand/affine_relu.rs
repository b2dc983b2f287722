use backprop::prelude::*;

/// The layer's parameters, named like the function's inputs after the first.
pub struct AffineRelu<T: Real> {
    /// The weights, `[inputs, outputs]`.
    pub w: Param<T, Ix2>,
    /// The bias, `[outputs]`.
    pub b: Param<T, Ix1>,
}

/// A fully connected layer followed by a ReLU.
#[differentiable(layer = AffineRelu)]
pub fn affine_relu<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z = x.dot(&w) + &b;
    relu(z)
}
