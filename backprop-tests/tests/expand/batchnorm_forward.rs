use backprop::prelude::*;

/// Batch normalization in training mode: batch statistics, then scale and shift.
#[differentiable]
pub fn batchnorm_forward<T: Real>(
    x: ArrayView2<T>,
    gamma: ArrayView1<T>,
    beta: ArrayView1<T>,
) -> Array2<T> {
    let mu = x.mean_axis(Axis(0));
    let centered = x - &mu;
    let var = centered.square().mean_axis(Axis(0));
    let x_hat = centered / (var + 1e-5).sqrt();
    x_hat * &gamma + &beta
}
