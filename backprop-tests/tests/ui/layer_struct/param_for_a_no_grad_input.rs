//! A `#[no_grad]` input is read from a field holding the value itself.
use backprop::prelude::*;

pub struct Scaled<T: Real> {
    pub w: Param<T, Ix2>,
    pub mask: Param<T, Ix2>,
}

#[differentiable(layer = Scaled)]
pub fn scaled<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, #[no_grad] mask: ArrayView2<T>) -> Array2<T> {
    x.dot(&w) * &mask
}

fn main() {}
