//! `floor` has no derivative, but behind `stop_gradient` no gradient flows through it
//! (a straight-through estimator: the forward rounds, the backward is the identity);
//! on a `#[no_grad]` input it is off the gradient path altogether.
use backprop::prelude::*;
use ndarray::array;

#[differentiable]
pub fn quantize<T: Real>(x: ArrayView2<T>, scale: ArrayView1<T>) -> Array2<T> {
    let q = stop_gradient(floor(x * 4.0) / 4.0 - &x);
    (&x + q) * &scale
}

#[differentiable]
pub fn floor_of_no_grad<T: Real>(x: ArrayView2<T>, #[no_grad] y: ArrayView2<T>) -> Array2<T> {
    x * floor(y)
}

fn main() {
    let x = array![[0.375, 0.875, -0.125]];
    let scale = array![1.0, 1.0, 2.0];
    let (y, saved) = quantize_train(x.view(), scale.view());
    assert_eq!(y, array![[0.25, 0.75, -0.5]]);
    let grads = quantize_backward(&saved, array![[1.0, 2.0, 3.0]].view());
    // Straight through: d/dx is the scale, as if floor were the identity.
    assert_eq!(grads.x, array![[1.0, 2.0, 6.0]]);
    assert_eq!(grads.scale, array![0.25, 1.5, -0.75]);
    let z = floor_of_no_grad(x.view(), array![[1.5, 2.5, -0.5]].view());
    assert_eq!(z, array![[0.375, 1.75, 0.125]]);
    let (_, saved) = floor_of_no_grad_train(x.view(), array![[1.5, 2.5, -0.5]].view());
    let grads = floor_of_no_grad_backward(&saved, array![[1.0, 1.0, 1.0]].view());
    assert_eq!(grads.x, array![[1.0, 2.0, -1.0]]);
}
