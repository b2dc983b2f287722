//! A function with no type parameter: the float type is `f32` throughout.
use backprop::prelude::*;
use ndarray::array;

#[differentiable]
pub fn affine_f32(x: ArrayView2<f32>, w: &Array2<f32>, b: ArrayView1<f32>) -> Array2<f32> {
    let z = x.dot(w) + &b;
    relu(z)
}

fn main() {
    let x = array![[1.0f32, 2.0]];
    let w = array![[1.0f32, -1.0], [0.5, -0.5]];
    let b = array![0.0f32, 0.0];
    let (y, saved) = affine_f32_train(x.view(), &w, b.view());
    assert_eq!(y, array![[2.0f32, 0.0]]);
    let grads = affine_f32_backward(&saved, array![[1.0f32, 1.0]].view());
    assert_eq!(grads.b, array![1.0f32, 0.0]);
    assert_eq!(grads.w, array![[1.0f32, 0.0], [2.0, 0.0]]);
}
