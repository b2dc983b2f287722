//! A layer needs an input.
use backprop::prelude::*;

pub struct Constant;

#[differentiable(layer = Constant)]
pub fn constant() -> f64 {
    1.0
}

fn main() {}
