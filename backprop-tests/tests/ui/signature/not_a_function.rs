//! The attribute goes on a function.
use backprop::prelude::*;

#[differentiable]
pub struct Affine {
    pub w: f64,
}

fn main() {}
