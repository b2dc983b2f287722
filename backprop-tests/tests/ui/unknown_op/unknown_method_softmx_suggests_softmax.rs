//! A misspelled method name is an unknown op too.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.softmx(Axis(1))
}

fn main() {}
