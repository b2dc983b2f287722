//! An input the output does not depend on still gets a gradient: zeros of its shape.
use backprop::prelude::*;
use ndarray::array;

#[differentiable]
pub fn ignores_w<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x)
}

fn main() {
    let x = array![[0.0, 1.0]];
    let w = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let (_, saved) = ignores_w_train(x.view(), w.view());
    let grads = ignores_w_backward(&saved, array![[1.0, 1.0]].view());
    assert_eq!(grads.w, Array2::<f64>::zeros((2, 3)));
    assert_eq!(grads.x[[0, 0]], 1.0);
}
