//! The attribute on something that is not a function: the item itself stays usable.
use backprop::prelude::*;

#[differentiable]
pub enum Activation {
    Relu,
    Tanh,
}

fn main() {
    let _ = Activation::Relu;
    let _ = Activation::Tanh;
}
