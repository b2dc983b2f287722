//! A `#[differentiable]` function of another module called without importing it:
//! rustc suggests the import.
use backprop::prelude::*;

mod cells {
    use backprop::prelude::*;

    #[differentiable]
    pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
        tanh(x.dot(&w))
    }
}

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    let h: Array2<T> = dense(x, w);
    h
}

fn main() {}
