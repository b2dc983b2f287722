use backprop::prelude::*;

pub struct Mix<T: Real> {
    pub w: Param<T, Ix2>,
}

#[differentiable(layer = Mix, input = [x, h])]
pub fn mix<T: Real>(x: ArrayView2<T>, h: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w) + h
}

fn main() {}
