use backprop::prelude::*;

pub struct Mix<T: Real> {
    pub w: Param<T, Ix2>,
}

// The layer's inputs are the function's first ones, in order.
#[differentiable(layer = Mix, input = (h, x))]
pub fn mix<T: Real>(x: ArrayView2<T>, h: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w) + h
}

fn main() {}
