use backprop::prelude::*;

#[differentiable]
fn smooth_l1<T: Real>(x: ArrayView2<T>) -> T {
    huber(x, 1.0).mean()
}

// `smooth_l1` is PyTorch's name for `huber`: the user's function is called by its path.
#[differentiable]
fn caller<T: Real>(x: ArrayView2<T>) -> T {
    let l: T = smooth_l1(x);
    l
}

fn main() {}
