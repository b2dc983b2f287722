//! `layer = Square` for a generic function names `Square<T>`: a struct without
//! a type parameter must be written `Square<>`.
use backprop::prelude::*;

pub struct Square;

#[differentiable(layer = Square)]
pub fn square<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.square()
}

fn main() {}
