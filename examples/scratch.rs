//! Scratch check of the macro (to be replaced).
use backprop::prelude::*;

#[differentiable]
pub fn affine_sigmoid<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z = x.dot(&w) + &b;
    sigmoid(z)
}

fn main() {
    let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    let w = ndarray::array![[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]];
    let b = ndarray::array![0.1, -0.1, 0.0];
    let y = affine_sigmoid(x.view(), w.view(), b.view());
    let (_, saved) = affine_sigmoid_train(x.view(), w.view(), b.view());
    let d = Array2::<f64>::ones((2, 3));
    let grads = affine_sigmoid_backward(&saved, d.view());
    println!("{y}\n{}\n{}", grads.w, grads.b);
}
