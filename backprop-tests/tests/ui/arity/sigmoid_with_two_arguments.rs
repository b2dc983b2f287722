//! An elementwise op called with too many arguments shows its usage.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>) -> Array2<T> {
    sigmoid(x, y)
}

fn main() {}
