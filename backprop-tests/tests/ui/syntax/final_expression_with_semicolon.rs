//! The last expression ends with `;`: one error at the semicolon, and the
//! expression is still checked (here: an unknown op in it).
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0;
    tanhh(y);
}

fn main() {}
