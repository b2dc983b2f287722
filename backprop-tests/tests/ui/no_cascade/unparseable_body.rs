//! A body that is not valid Rust: rustc's own syntax error, and nothing from the macro on top.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let y = x * 2.0 +;
    y
}

fn main() {
    let x = Array2::<f64>::zeros((1, 1));
    let _ = f(x.view());
}
