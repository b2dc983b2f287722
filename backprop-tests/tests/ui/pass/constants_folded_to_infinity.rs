//! Constant arithmetic that overflows is computed at run time, as in plain Rust,
//! rather than folded into a literal (there is no literal for inf or NaN).
use backprop::prelude::*;
use ndarray::array;

#[differentiable]
pub fn clamp_nothing<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    minimum(x, 1e300 * 1e300) + maximum(x, -1e300 * 1e300)
}

fn main() {
    let x = array![[1.5, -2.0]];
    let (y, saved) = clamp_nothing_train(x.view());
    assert_eq!(y, array![[3.0, -4.0]]);
    let grads = clamp_nothing_backward(&saved, array![[1.0, 1.0]].view());
    assert_eq!(grads.x, array![[2.0, 2.0]]);
}
