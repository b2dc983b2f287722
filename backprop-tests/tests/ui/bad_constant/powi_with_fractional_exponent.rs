//! `powi(x, 2.5)` used to truncate the exponent to 2 in the forward and use 2.5
//! in the backward: a non-integer exponent is an error that suggests `powf`.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    powi(x, 2.5)
}

fn main() {}
