//! An unknown option lists the known ones.
use backprop::prelude::*;

pub struct Affine;

#[differentiable(layr = Affine)]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * 2.0
}

fn main() {}
