//! `#[no_grad]` on a `let` used to be accepted and ignored: the gradient still flowed.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    #[no_grad]
    let s = sigmoid(x);
    s * x
}

fn main() {}
