//! An input no output depends on warns at the input, with a help.
use backprop::prelude::*;

#[differentiable]
pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w) + &w.sum_axis(Axis(0))
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
