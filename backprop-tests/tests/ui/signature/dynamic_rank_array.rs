//! Arrays of dynamic rank are not supported: ranks are checked at compile time.
use backprop::prelude::*;
use backprop::ndarray::ArrayViewD;

#[differentiable]
pub fn f<T: Real>(x: ArrayViewD<T>) -> T {
    x.sum()
}

fn main() {}
