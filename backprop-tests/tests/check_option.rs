//! `check(..)` writes a gradient test into the crate that uses it: here, items
//! whose inputs are of every kind, so that each kind of value is drawn and the
//! emitted `#[test]`s (`mixed_gradient_check`, ...) run in this test binary.

use backprop::prelude::*;

/// A float array, an integer array, a positive array, a float scalar and a size.
#[differentiable(check(
    x = [4, 3],
    labels = [2] < 3,
    var = [3] > 0,
    eps = 0.1,
    n = 2,
    seed = 7,
    scale = 0.5
))]
pub fn mixed<T: Real>(
    x: ArrayView2<T>,
    labels: ArrayView1<usize>,
    var: ArrayView1<T>,
    #[no_grad] eps: T,
    n: usize,
) -> T {
    let scaled = x.slice_axis(Axis(0), 0..n) / sqrt(var + eps);
    -pick(log_softmax(scaled, Axis(1)), &labels).mean()
}

/// A layer, so that the test sits beside a `Layer` impl.
pub struct Dense<T: Real> {
    w: Param<T, Ix2>,
    b: Param<T, Ix1>,
}

#[differentiable(layer = Dense, check(x = [3, 2], w = [2, 4], b = [4]))]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    tanh(x.dot(&w) + &b)
}

#[test]
fn the_emitted_tests_are_ordinary_functions_of_this_crate() {
    // They run on their own (cargo test lists them); calling them here as well
    // shows they exist under these names.
    mixed_gradient_check();
    dense_gradient_check();
    let layer = Dense::<f64> {
        w: Param::new(backprop::ndarray::Array2::zeros((2, 4))),
        b: Param::new(backprop::ndarray::Array1::zeros(4)),
    };
    let _ = layer.forward(&backprop::ndarray::Array2::zeros((1, 2)));
}
