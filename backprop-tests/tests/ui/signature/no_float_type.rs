//! Without a type parameter the signature must name f32 or f64.
use backprop::prelude::*;

#[differentiable]
pub fn f(x: ArrayView1<usize>) -> usize {
    x.len_of(Axis(0))
}

fn main() {}
