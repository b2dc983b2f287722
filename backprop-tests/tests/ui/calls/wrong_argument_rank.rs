use backprop::prelude::*;

#[differentiable]
fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanh(x.dot(&w))
}

// `b` is 1-D where `dense` takes a 2-D `w`.
#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let h: Array2<T> = dense(x, b);
    h
}

fn main() {}
