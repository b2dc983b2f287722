use backprop::prelude::*;

/// Layer normalization over the features of each row.
#[differentiable]
pub fn layernorm<T: Real>(x: ArrayView2<T>, gamma: ArrayView1<T>, beta: ArrayView1<T>) -> Array2<T> {
    let mu = x.mean_axis(Axis(1)).insert_axis(Axis(1));
    let centered = x - &mu;
    let var = centered.square().mean_axis(Axis(1)).insert_axis(Axis(1));
    let x_hat = centered / (var + 1e-5).sqrt();
    x_hat * &gamma + &beta
}
