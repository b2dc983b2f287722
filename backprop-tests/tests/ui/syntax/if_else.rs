//! if/else is not supported; where_ chooses elementwise.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>) -> Array2<T> {
    if true { x.to_owned() } else { y.to_owned() }
}

fn main() {}
