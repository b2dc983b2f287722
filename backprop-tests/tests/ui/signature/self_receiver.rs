//! A differentiable function has no self.
use backprop::prelude::*;

pub struct Net;

impl Net {
    #[differentiable]
    pub fn forward<T: Real>(&self, x: ArrayView2<T>) -> Array2<T> {
        x * 2.0
    }
}

fn main() {}
