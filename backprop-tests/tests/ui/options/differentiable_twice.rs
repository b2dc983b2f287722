//! The attribute written twice says so, once, instead of defining every item twice.
use backprop::prelude::*;

#[differentiable]
#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    tanh(x)
}

fn main() {
    let _ = f(Array2::<f64>::zeros((1, 1)).view());
}
