//! Names people bring from NumPy and PyTorch each get what to write instead.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    let a = log(x);
    let b = x.max();
    let c = reshape(x);
    let d = stack(a, b);
    let e = logsigmoid(x);
    let g = clamp(x, 0.0, 1.0);
    let h = x.matmul(&w);
    a + c + d + e + g + h
}

fn main() {}
