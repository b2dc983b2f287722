//! All parts of concatenate have one rank.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(a: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    concatenate(Axis(0), &[&a, &b])
}

fn main() {}
