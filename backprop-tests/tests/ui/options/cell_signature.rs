//! `cell = Name` needs one step of a recurrence: `(x, h_prev, fields..) -> h`
//! or `(x, h_prev, c_prev, fields..) -> (h, c)`, all 2-D, taking gradients.
use backprop::prelude::*;

pub struct Scan<T: Real> {
    w: Param<T, Ix2>,
}

#[differentiable(cell = Scan)]
pub fn scan_step<T: Real>(x: ArrayView2<T>, #[no_grad] h_prev: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w) + &h_prev)
}

pub struct Summed<T: Real> {
    w: Param<T, Ix2>,
}

#[differentiable(cell = Summed)]
pub fn summed<T: Real>(x: ArrayView2<T>, h_prev: ArrayView2<T>, w: ArrayView2<T>) -> T {
    (x.dot(&w) + &h_prev).sum()
}

pub struct Both<T: Real> {
    w: Param<T, Ix2>,
}

#[differentiable(cell = Both, layer = Both)]
pub fn both<T: Real>(x: ArrayView2<T>, h_prev: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w) + &h_prev)
}

pub struct Named<T: Real> {
    w: Param<T, Ix2>,
}

#[differentiable(cell = Named, recurrence = wh)]
pub fn named<T: Real>(x: ArrayView2<T>, h_prev: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w) + &h_prev)
}

fn main() {}
