//! A backward of one's own with the wrong signature: the error is at its name
//! in the attribute, saying what was expected.
use backprop::prelude::*;

#[differentiable(backward = by_hand, check(x = [2, 2]))]
pub fn double<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

/// Returns an array instead of the `DoubleGrads` struct.
pub fn by_hand<T: Real>(_: &DoubleSaved<T>, d_out: ArrayView2<'_, T>) -> Array2<T> {
    &d_out * T::lit(2.0)
}

fn main() {}
