//! Not unused: an input named `_b` on purpose, one read only through
//! `stop_gradient`, one read only for its size, and an integer input used as an index.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(
    x: ArrayView2<T>,
    _b: ArrayView1<T>,
    s: ArrayView2<T>,
    n: ArrayView2<T>,
    idx: ArrayView1<usize>,
) -> Array1<T> {
    let k = n.len_of(Axis(1));
    pick(x * stop_gradient(s), &idx) + x.slice_axis(Axis(1), 0..k).sum_axis(Axis(1))
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
