//! `T::lit(0.5)` (which the crate's hand-written code needs) is not needed in a body.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let a = x * T::lit(0.5);
    let b = a + T::one();
    b * T::from(-2.0) + T::epsilon()
}

fn main() {}
