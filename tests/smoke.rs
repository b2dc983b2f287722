//! Scratch check of the macro (to be replaced).
use backprop::prelude::*;
use backprop::{DynValue, GradCheck, check_function};
use ndarray::array;

#[differentiable]
pub fn affine_sigmoid<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z = x.dot(&w) + &b;
    sigmoid(z)
}

#[test]
fn affine_sigmoid_gradients() {
    let x = array![[1.0, 2.0], [3.0, -4.0]];
    let w = array![[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]];
    let b = array![0.1, -0.1, 0.0];
    let inputs = [
        DynValue::Float(x.into_dyn()),
        DynValue::Float(w.into_dyn()),
        DynValue::Float(b.into_dyn()),
    ];
    let report = check_function(&affine_sigmoid_dyn::<f64>(), &inputs, &GradCheck::default());
    println!("{report}");
    report.assert_passed();
}
