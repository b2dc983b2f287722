//! The fallback strips `#[no_grad]`, so rustc does not complain about an unknown attribute.
use backprop::prelude::*;

#[differentiable]
pub fn f<T: Real>(x: ArrayView2<T>, #[no_grad] w: ArrayView2<T>) -> Array2<T> {
    x.dot(&w).foo()
}

fn main() {
    let x = Array2::<f32>::zeros((1, 1));
    let _ = f(x.view(), x.view());
}
