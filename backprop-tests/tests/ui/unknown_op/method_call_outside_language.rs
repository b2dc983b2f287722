//! An ndarray method that is not part of the language is rejected at the method name.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x.mapv(T::exp);
    y
}

fn main() {}
