//! A public function calling a private one compiles without a warning (the
//! caller's `Saved` holds the callee's, of a more private type).
#![deny(warnings)]

mod inner {
    use backprop::prelude::*;

    #[differentiable]
    fn helper<T: Real>(x: ArrayView2<T>) -> Array2<T> {
        tanh(x)
    }

    #[differentiable]
    pub fn public<T: Real>(x: ArrayView2<T>) -> Array2<T> {
        let h: Array2<T> = helper(x);
        h * 2.0
    }
}

fn main() {
    let x = backprop::ndarray::Array2::<f64>::ones((2, 2));
    let (_, saved) = inner::public_train(x.view());
    let grads = inner::public_backward(&saved, x.view());
    assert_eq!(grads.x.dim(), (2, 2));
}
