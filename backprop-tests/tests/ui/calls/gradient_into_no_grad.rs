use backprop::prelude::*;

#[differentiable]
fn td_error<T: Real>(q: ArrayView1<T>, #[no_grad] target: ArrayView1<T>) -> T {
    square(q - target).mean()
}

// `target` is `#[no_grad]` in the callee, but `next_q` needs a gradient here.
#[differentiable]
fn caller<T: Real>(q: ArrayView1<T>, next_q: ArrayView1<T>) -> T {
    let target = next_q * 0.9;
    let l: T = td_error(q, target);
    l
}

fn main() {}
