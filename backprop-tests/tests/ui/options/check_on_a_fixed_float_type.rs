//! `check(..)` runs in `f64`: the function must be generic over the float type.
use backprop::prelude::*;

#[differentiable(check(x = [4, 3]))]
pub fn squares(x: ArrayView2<f32>) -> Array2<f32> {
    x.square()
}

fn main() {}
