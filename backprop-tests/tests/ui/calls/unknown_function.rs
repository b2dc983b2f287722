//! A name that is no op and no function in scope, with its result declared (here by
//! the return type): taken for a function, which rustc does not find.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    convolve(x)
}

fn main() {}
