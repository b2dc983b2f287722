//! `allow(unused_input)` silences the lint for this function: no warning above the end.
use backprop::prelude::*;

#[differentiable(allow(unused_input))]
pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w)
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
