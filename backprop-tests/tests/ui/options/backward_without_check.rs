//! A backward of one's own must be tested: `backward = ..` needs `check(..)`;
//! and `surrogate` declares a backward that is not there.
use backprop::prelude::*;

#[differentiable(backward = by_hand)]
pub fn double<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

pub fn by_hand<T: Real>(_: &DoubleSaved<T>, d_out: ArrayView2<'_, T>) -> DoubleGrads<T> {
    DoubleGrads { x: &d_out * T::lit(2.0) }
}

#[differentiable(surrogate, check(x = [2, 2]))]
pub fn triple<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 3.0
}

fn main() {}
