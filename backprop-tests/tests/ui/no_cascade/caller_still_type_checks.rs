//! A function with an error can still be called: only the macro's error shows,
//! not "cannot find function" or type errors at the call site.
use backprop::prelude::*;
use backprop_core::ndarray::Array2 as A2;

#[differentiable]
pub fn double<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x * tw0
}

fn main() {
    let x: A2<f64> = A2::zeros((2, 2));
    let y: A2<f64> = double(x.view());
    println!("{y}");
}
