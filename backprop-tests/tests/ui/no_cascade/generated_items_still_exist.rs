//! Code that uses the generated `_train`, `_backward`, `_dyn` functions and the
//! `Saved`/`Grads` structs of a function with an error sees only the macro's error.
use backprop::prelude::*;

#[differentiable]
pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, #[no_grad] s: T) -> (Array2<T>, T) {
    let z = x.dot(&w) * s;
    (sigmoidd(z), z.sum())
}

fn main() {
    let x = Array2::<f64>::zeros((1, 2));
    let w = Array2::<f64>::zeros((2, 2));
    let ((y, loss), saved): ((Array2<f64>, f64), AffineSaved<f64>) = affine_train(x.view(), w.view(), 1.0);
    let grads: AffineGrads<f64> = affine_backward(&saved, (y.view(), loss));
    let dw: Array2<f64> = grads.w;
    let dx: Array2<f64> = grads.x;
    let _ = (dw, dx, affine_dyn::<f64>());
}
