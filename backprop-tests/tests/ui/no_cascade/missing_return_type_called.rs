//! A missing return type reports the macro's error only, also where the function is called.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) {
    x * 2.0
}

fn main() {
    let x = Array2::<f64>::zeros((1, 1));
    f(x.view());
}
