use backprop::prelude::*;

/// One step of a vanilla RNN.
#[differentiable]
pub fn rnn_step<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    tanh(x.dot(&wx) + h_prev.dot(&wh) + &b)
}
