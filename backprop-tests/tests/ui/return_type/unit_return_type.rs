//! `-> ()` is no output at all.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> () {
    ()
}

fn main() {}
