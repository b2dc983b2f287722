//! `layer = Name`: the struct's fields are the function's inputs after the first,
//! and `Layer` is implemented for it.
use backprop::prelude::*;
use backprop::{GradCheck, check_layer};
use ndarray::array;

/// A dense layer with a tanh.
pub struct Dense<T: Real> {
    /// Weights.
    pub w: Param<T, Ix2>,
    /// Bias.
    pub b: Param<T, Ix1>,
}

#[differentiable(layer = Dense)]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    tanh(x.dot(&w) + &b)
}

fn main() {
    let mut layer = Dense {
        w: Param::new(array![[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]),
        b: Param::new(array![0.01, -0.02]),
    };
    let x = array![[1.0, 2.0, 3.0], [-1.0, 0.5, 0.25]];
    let y = layer.forward(&x);
    assert_eq!(y.dim(), (2, 2));
    let (_, saved) = layer.forward_train(&x);
    let dx = layer.backward(saved, &Array2::ones((2, 2)));
    assert_eq!(dx.dim(), (2, 3));
    assert_eq!(layer.num_params(), 8);
    check_layer(&mut layer, &x, &GradCheck::default()).assert_passed();
}
