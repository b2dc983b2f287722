//! `self` in a free function. rustc also reports it (it is an error in plain Rust too):
//! the stub the macro leaves keeps `self`, so that inside an `impl` callers still type-check.
use backprop::prelude::*;

#[differentiable]
pub fn forward<T: Real>(self, x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
