use backprop::prelude::*;

// A declared type that is not the value's is an error, not ignored.
#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>) -> T {
    let s: Array2<T> = x.sum_axis(Axis(0));
    s.sum()
}

fn main() {}
