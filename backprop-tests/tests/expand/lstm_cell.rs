use backprop::prelude::*;

/// One LSTM step: the four gates come from one product and are sliced apart.
#[differentiable]
pub fn lstm_cell<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    c_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> (Array2<T>, Array2<T>) {
    let hidden = h_prev.len_of(Axis(1));
    let gates = x.dot(&wx) + h_prev.dot(&wh) + &b;
    let i = sigmoid(gates.slice_axis(Axis(1), 0..hidden));
    let f = sigmoid(gates.slice_axis(Axis(1), hidden..2 * hidden));
    let o = sigmoid(gates.slice_axis(Axis(1), 2 * hidden..3 * hidden));
    let g = tanh(gates.slice_axis(Axis(1), 3 * hidden..4 * hidden));
    let c = f * &c_prev + i * g;
    let h = o * tanh(c);
    (h, c)
}
