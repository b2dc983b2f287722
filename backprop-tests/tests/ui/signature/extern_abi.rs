//! An extern ABI is not supported.
use backprop::prelude::*;

#[differentiable]
pub extern "C" fn f(x: ArrayView2<f64>) -> Array2<f64> {
    x * 2.0
}

fn main() {}
