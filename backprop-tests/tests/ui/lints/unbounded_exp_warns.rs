//! `exp` of scores that nothing bounds overflows to infinity.
use backprop::prelude::*;

#[differentiable]
pub fn naive_softmax<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    let e = exp(x.dot(&w));
    &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1))
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
