//! A layer whose forward has an error, used in a `Sequential` and trained: only
//! the real error shows, not errors about a missing `Layer` impl or items.
use backprop::model::Sequential;
use backprop::prelude::*;

pub struct Dense<T: Real> {
    pub w: Param<T, Ix2>,
}

#[differentiable(layer = Dense)]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    tanhh(x.dot(&w))
}

fn main() {
    let mut model = Sequential::<f64>::new();
    model.push(
        "dense",
        Dense {
            w: Param::new(Array2::zeros((2, 2))),
        },
    );
    let mut layer = Dense::<f64> {
        w: Param::new(Array2::zeros((2, 2))),
    };
    let x = Array2::<f64>::zeros((1, 2));
    let (y, saved): (Array2<f64>, DenseSaved<f64>) = layer.forward_train(&x);
    let dx: Array2<f64> = layer.backward(saved, &y);
    let (_, saved) = dense_train(x.view(), x.view());
    let grads: DenseGrads<f64> = dense_backward(&saved, x.view());
    let _ = (dx, grads.w, grads.x, dense_dyn::<f64>());
}
