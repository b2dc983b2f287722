//! A `let` nothing reads warns at its name: its value is not computed at all.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let z = tanh(x);
    let unused = sigmoid(z);
    z * 2.0
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
