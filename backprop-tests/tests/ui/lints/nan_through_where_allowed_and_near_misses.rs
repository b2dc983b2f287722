//! No warning above the end: the lint allowed; the double where (the argument
//! guarded too); a branch whose root is always defined.
use backprop::prelude::*;

#[differentiable(allow(nan_through_where))]
pub fn allowed<T: Real>(x: ArrayView1<T>) -> Array1<T> {
    where_(x > 0.0, sqrt(x), x * 0.0)
}

#[differentiable]
pub fn double_where<T: Real>(x: ArrayView1<T>) -> Array1<T> {
    where_(x > 0.0, sqrt(where_(x > 0.0, x, x * 0.0 + 1.0)), x * 0.0)
}

#[differentiable]
pub fn always_defined<T: Real>(x: ArrayView1<T>) -> Array1<T> {
    where_(x > 0.0, sqrt(x.square() + 1.0), x)
}

// Warnings show only in a build that fails: this stops it after they are printed.
fn main() {
    compile_error!("end of the case");
}
