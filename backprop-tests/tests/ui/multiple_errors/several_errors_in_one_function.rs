//! Every error in one function is reported, not just the first.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, labels: ArrayView1<usize>) -> Array2<T> {
    let z = x.dot(&wieght);
    let a = sigmoidd(z);
    let b = x * labels;
    let mut c = x + 1.0;
    for _ in 0..2 {}
    softmax(x, Axis(5))
}

fn main() {}
