//! Batch normalization and layer normalization of `[batch, features]` arrays.

use backprop_macros::differentiable;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Ix1};

use crate::{Layer, Param, Parameters, Real, init};

/// Batch normalization (Ioffe and Szegedy, 2015) of each feature over the batch.
///
/// Training ([`Layer::forward_train`]) normalizes with the statistics of the batch,
/// `y = (x - mean) / sqrt(var + eps) * gamma + beta` with `mean` and `var` (biased)
/// taken over the batch axis, and differentiates through them ([`batch_norm`]). It
/// also updates the running statistics,
/// `running = (1 - momentum) * running + momentum * batch statistic`, with the
/// unbiased batch variance for `running_var`, as PyTorch does.
///
/// Evaluation ([`Layer::forward`]) uses the running statistics instead
/// ([`batch_norm_eval`]), so an example's output does not depend on the rest of its batch.
///
/// `gamma` and `beta` are parameters; `running_mean` and `running_var` are buffers
/// (saved in checkpoints, never trained).
#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct BatchNorm<T: Real> {
    /// The scale, `[features]`, initially ones.
    pub gamma: Param<T, Ix1>,
    /// The shift, `[features]`, initially zeros.
    pub beta: Param<T, Ix1>,
    /// The running mean of each feature, initially zeros.
    #[param(buffer)]
    pub running_mean: Array1<T>,
    /// The running variance of each feature, initially ones.
    #[param(buffer)]
    pub running_var: Array1<T>,
    /// The weight of the current batch in the running statistics (0.1).
    pub momentum: T,
    /// Added to the variance before the square root (1e-5).
    pub eps: T,
}

impl<T: Real> BatchNorm<T> {
    /// A layer for `features` features, with momentum 0.1 and eps 1e-5.
    pub fn new(features: usize) -> Self {
        BatchNorm {
            gamma: Param::new(init::constant(features, 1.0)),
            beta: Param::new(init::zeros(features)),
            running_mean: init::zeros(features),
            running_var: init::constant(features, 1.0),
            momentum: T::lit(0.1),
            eps: T::lit(1e-5),
        }
    }

    fn update_running_statistics(&mut self, x: &Array2<T>) {
        let n = T::from_usize(x.nrows()).unwrap_or_else(T::one);
        let unbiased = n / (n - T::one()).max(T::one());
        let mean = x
            .mean_axis(Axis(0))
            .unwrap_or_else(|| self.running_mean.clone());
        let var = x.var_axis(Axis(0), T::zero()) * unbiased;
        let m = self.momentum;
        self.running_mean = &self.running_mean * (T::one() - m) + mean * m;
        self.running_var = &self.running_var * (T::one() - m) + var * m;
    }
}

/// Batch normalization with the statistics of the batch:
/// `y = (x - mean) / sqrt(var + eps) * gamma + beta`, `mean` and biased `var` over axis 0.
#[differentiable(check(x = [6, 3], gamma = [3], beta = [3], eps = 1e-5))]
pub fn batch_norm<T: Real>(
    x: ArrayView2<T>,
    gamma: ArrayView1<T>,
    beta: ArrayView1<T>,
    #[no_grad] eps: T,
) -> Array2<T> {
    let centered = &x - &x.mean_axis(Axis(0));
    let var = square(&centered).mean_axis(Axis(0));
    let x_hat = centered / sqrt(var + eps);
    x_hat * &gamma + &beta
}

/// Batch normalization with given statistics (the running ones in evaluation):
/// `y = (x - mean) / sqrt(var + eps) * gamma + beta`.
#[differentiable(check(
    x = [6, 3],
    gamma = [3],
    beta = [3],
    mean = [3],
    var = [3] > 0,
    eps = 1e-5
))]
pub fn batch_norm_eval<T: Real>(
    x: ArrayView2<T>,
    gamma: ArrayView1<T>,
    beta: ArrayView1<T>,
    #[no_grad] mean: ArrayView1<T>,
    #[no_grad] var: ArrayView1<T>,
    #[no_grad] eps: T,
) -> Array2<T> {
    let x_hat = (&x - &mean) / sqrt(var + eps);
    x_hat * &gamma + &beta
}

impl<T: Real> Layer<T> for BatchNorm<T> {
    type Input = Array2<T>;
    type Output = Array2<T>;
    type InputGrad = Array2<T>;
    type Saved = BatchNormSaved<T>;

    fn forward(&self, x: &Array2<T>) -> Array2<T> {
        batch_norm_eval(
            x.view(),
            self.gamma.value.view(),
            self.beta.value.view(),
            self.running_mean.view(),
            self.running_var.view(),
            self.eps,
        )
    }

    fn forward_train(&mut self, x: &Array2<T>) -> (Array2<T>, BatchNormSaved<T>) {
        self.update_running_statistics(x);
        batch_norm_train(
            x.view(),
            self.gamma.value.view(),
            self.beta.value.view(),
            self.eps,
        )
    }

    fn backward(&mut self, saved: BatchNormSaved<T>, d_out: &Array2<T>) -> Array2<T> {
        let grads = batch_norm_backward(&saved, d_out.view());
        self.gamma.accumulate(&grads.gamma);
        self.beta.accumulate(&grads.beta);
        grads.x
    }
}

/// Layer normalization (Ba et al., 2016) of each example over its features:
/// `y = (x - mean) / sqrt(var + eps) * gamma + beta` with `mean` and biased `var`
/// taken over axis 1, the same in training and evaluation; see [`layer_norm`].
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm<T: Real> {
    /// The scale, `[features]`, initially ones.
    pub gamma: Param<T, Ix1>,
    /// The shift, `[features]`, initially zeros.
    pub beta: Param<T, Ix1>,
    /// Added to the variance before the square root (1e-5).
    pub eps: T,
}

impl<T: Real> LayerNorm<T> {
    /// A layer for `features` features, with eps 1e-5.
    pub fn new(features: usize) -> Self {
        LayerNorm {
            gamma: Param::new(init::constant(features, 1.0)),
            beta: Param::new(init::zeros(features)),
            eps: T::lit(1e-5),
        }
    }
}

/// Layer normalization: `y = (x - mean) / sqrt(var + eps) * gamma + beta`, `mean` and
/// biased `var` over axis 1, put back as a column to broadcast along each row.
#[differentiable(layer = LayerNorm, check(x = [4, 5], gamma = [5], beta = [5], eps = 1e-5))]
pub fn layer_norm<T: Real>(
    x: ArrayView2<T>,
    gamma: ArrayView1<T>,
    beta: ArrayView1<T>,
    #[no_grad] eps: T,
) -> Array2<T> {
    let mean = x.mean_axis(Axis(1)).insert_axis(Axis(1));
    let centered = x - &mean;
    let var = centered.square().mean_axis(Axis(1)).insert_axis(Axis(1));
    let x_hat = centered / sqrt(var + eps);
    x_hat * &gamma + &beta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{check, random};
    use ndarray::array;

    /// Random scale and shift, so that their gradients are checked away from 1 and 0.
    fn randomize(gamma: &mut Param<f64, Ix1>, beta: &mut Param<f64, Ix1>) {
        gamma.value = random(gamma.value.len(), 11) + 1.0;
        beta.value = random(beta.value.len(), 12);
    }

    #[test]
    fn normalizations_pass_the_gradient_check() {
        let x = random((5, 3), 1) * 2.0 + 1.0;
        let mut bn = BatchNorm::new(3);
        randomize(&mut bn.gamma, &mut bn.beta);
        check(&mut bn, &x);
        let mut ln = LayerNorm::new(3);
        randomize(&mut ln.gamma, &mut ln.beta);
        check(&mut ln, &x);
    }

    #[test]
    fn batch_norm_trains_on_batch_statistics_and_evaluates_on_running_ones() {
        let x = array![[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]];
        let mut bn = BatchNorm::<f64>::new(2);
        let (y, _) = bn.forward_train(&x);
        // Each feature has mean 0 and variance 1 over the batch (up to eps).
        for col in y.columns() {
            assert!(col.mean().unwrap().abs() < 1e-12);
            assert!((col.var(0.0) - 1.0).abs() < 1e-4);
        }
        // Running statistics moved 10% of the way to the batch mean and unbiased variance.
        assert!(
            (&bn.running_mean - &array![0.3, 3.0])
                .iter()
                .all(|d| d.abs() < 1e-12)
        );
        let expected_var = array![0.9 + 0.1 * 4.0, 0.9 + 0.1 * 700.0];
        assert!(
            (&bn.running_var - &expected_var)
                .iter()
                .all(|d| d.abs() < 1e-12)
        );
        // Evaluation normalizes with the running statistics, row by row.
        let first = bn.forward(&x.slice_axis(Axis(0), ndarray::Slice::from(0..1)).to_owned());
        let manual = (&x.row(0) - &bn.running_mean) / bn.running_var.mapv(|v| (v + 1e-5).sqrt());
        assert!((&first.row(0) - &manual).iter().all(|d| d.abs() < 1e-12));
        // Buffers are visited by name.
        let mut names = Vec::new();
        bn.visit_buffers(&mut |name, _| names.push(name.to_string()));
        assert_eq!(names, ["running_mean", "running_var"]);
    }

    #[test]
    fn running_statistics_converge_to_the_data_statistics() {
        let mut bn = BatchNorm::<f64>::new(1);
        let x = random((200, 1), 3) * 3.0 + 2.0;
        // After k steps, 0.9^k of the initial gap is left: 1e-9 after 200.
        for _ in 0..200 {
            bn.forward_train(&x);
        }
        let var = x.var_axis(Axis(0), 1.0);
        assert!((bn.running_mean[0] - x.mean().unwrap()).abs() < 1e-6);
        assert!((bn.running_var[0] - var[0]).abs() < 1e-6);
    }

    #[test]
    fn layer_norm_normalizes_each_row() {
        let x = array![[1.0, 2.0, 6.0], [-3.0, 0.0, 3.0]];
        let y = LayerNorm::<f64>::new(3).forward(&x);
        for row in y.rows() {
            assert!(row.mean().unwrap().abs() < 1e-12);
            assert!((row.var(0.0) - 1.0).abs() < 1e-4);
        }
    }
}
