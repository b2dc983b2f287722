//! A norm without an epsilon: `sqrt` of a sum of squares that reaches 0, and
//! the log of a ReLU.
use backprop::prelude::*;

#[differentiable]
pub fn normalize<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let norm = sqrt(x.square().sum_axis(Axis(1)));
    &x / &norm.insert_axis(Axis(1))
}

#[differentiable]
pub fn log_relu<T: Real>(x: ArrayView1<T>) -> T {
    ln(relu(x)).sum()
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
