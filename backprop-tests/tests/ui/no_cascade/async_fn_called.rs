//! An `async` differentiable function: only the macro's error, not rustc's
//! complaints about the lifetimes an async stub would need.
use backprop::prelude::*;

#[differentiable]
pub async fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w)
}

fn main() {
    let x = Array2::<f64>::zeros((1, 1));
    let _ = f(x.view(), x.view());
}
