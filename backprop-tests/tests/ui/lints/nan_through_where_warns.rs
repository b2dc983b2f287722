//! `sqrt` inside a `where_` branch: for x < 0 the branch is not taken, but its
//! derivative is NaN, and 0 * NaN = NaN reaches the gradient.
use backprop::prelude::*;

#[differentiable]
pub fn safe_sqrt<T: Real>(x: ArrayView1<T>) -> Array1<T> {
    where_(x > 0.0, sqrt(x), x * 0.0)
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
