use backprop::prelude::*;

/// One gate's pre-activation: `x wx + h wh + b`.
#[differentiable]
pub fn gate<T: Real>(
    x: ArrayView2<T>,
    h: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    x.dot(&wx) + h.dot(&wh) + &b
}

/// A GRU step built from three calls of `gate`, whose backward it chains.
#[differentiable]
#[allow(clippy::too_many_arguments)]
pub fn gru_step<T: Real>(
    x: ArrayView2<T>,
    h: ArrayView2<T>,
    wz: ArrayView2<T>,
    uz: ArrayView2<T>,
    bz: ArrayView1<T>,
    wr: ArrayView2<T>,
    ur: ArrayView2<T>,
    br: ArrayView1<T>,
    wn: ArrayView2<T>,
    un: ArrayView2<T>,
    bn: ArrayView1<T>,
) -> Array2<T> {
    let z_pre: Array2<T> = gate(x, h, wz, uz, bz);
    let z = sigmoid(z_pre);
    let r_pre: Array2<T> = gate(x, h, wr, ur, br);
    let r = sigmoid(r_pre);
    let n_pre: Array2<T> = gate(x, &r * &h, wn, un, bn);
    let n = tanh(n_pre);
    (1.0 - &z) * n + z * &h
}
