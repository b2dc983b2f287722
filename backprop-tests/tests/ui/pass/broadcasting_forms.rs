//! Broadcasting: a row vector against a matrix, a scalar literal on either side,
//! a `#[no_grad]` float scalar, a column `(n, 1)` against a matrix, and `maximum` with a scalar.
use backprop::prelude::*;
use backprop::{DynValue, GradCheck, check_function};
use ndarray::array;

#[differentiable]
pub fn broadcast<T: Real>(
    x: ArrayView2<T>,
    b: ArrayView1<T>,
    c: ArrayView2<T>,
    #[no_grad] scale: T,
) -> Array2<T> {
    let shifted = &x + &b;
    let scaled = 2.0 * shifted - 1.0;
    let mixed = scaled * scale + c;
    maximum(mixed, 0.5) / 3.0
}

fn main() {
    let x = array![[1.0, -2.0, 0.3], [0.4, 0.5, -0.6]];
    let b = array![0.1, -0.2, 0.3];
    let c = array![[0.7], [-0.8]];
    let y = broadcast(x.view(), b.view(), c.view(), 1.5);
    assert_eq!(y.dim(), (2, 3));
    let inputs = [
        DynValue::Float(x.into_dyn()),
        DynValue::Float(b.into_dyn()),
        DynValue::Float(c.into_dyn()),
        DynValue::Float(ndarray::arr0(1.5).into_dyn()),
    ];
    check_function(&broadcast_dyn::<f64>(), &inputs, &GradCheck::default()).assert_passed();
}
