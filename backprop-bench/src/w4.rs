//! W4: batch normalization, training forward and backward on `x[1024, 512]` with
//! `gamma`, `beta`, `eps = 1e-5`; loss = `sum(out * dout)` for a fixed random
//! `dout`. Gradients: `x`, `gamma`, `beta`.
//!
//! The loss is the usual way of saying "the upstream gradient is `dout`": both
//! variants run the layer's forward, take `dout` as the gradient of its output, and
//! compute the loss from the output with the same helper ([`crate::dot_sum_f64`]).

use backprop::prelude::*;
use backprop::{Real, SeededRng};
use ndarray::{Array1, Array2, Zip};

use crate::{StepResult, Variant, normal};

/// The `eps` of the workload.
pub const EPS: f64 = 1e-5;

/// The sizes of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Rows of `x` (the batch, over which the statistics are taken).
    pub rows: usize,
    /// Columns of `x` (features).
    pub cols: usize,
}

impl Sizes {
    /// The workload as specified: `[1024, 512]`.
    pub const FULL: Sizes = Sizes {
        rows: 1024,
        cols: 512,
    };
    /// A small instance for tests.
    pub const SMALL: Sizes = Sizes { rows: 11, cols: 6 };

    /// The bytes a step must move at least: `x` and `dout` read once, `out` and
    /// `dx` written once (the per-feature vectors are negligible).
    pub fn bytes<T>(self) -> f64 {
        (4 * self.rows * self.cols * std::mem::size_of::<T>()) as f64
    }
}

/// The inputs of one step.
#[derive(Clone, Debug)]
pub struct Data<T> {
    /// `[rows, cols]`, normal with standard deviation 2, shifted by 0.5.
    pub x: Array2<T>,
    /// `[cols]`, around 1.
    pub gamma: Array1<T>,
    /// `[cols]`, around 0.
    pub beta: Array1<T>,
    /// `[rows, cols]`, standard normal: the gradient of the loss with respect to the output.
    pub dout: Array2<T>,
}

impl<T: Real> Data<T> {
    /// Data of the given sizes drawn from `seed`.
    pub fn new(s: Sizes, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let x = normal::<T, _>((s.rows, s.cols), 2.0, &mut rng).mapv(|v| v + T::lit(0.5));
        let gamma = normal::<T, _>(s.cols, 0.2, &mut rng).mapv(|v| v + T::one());
        Data {
            x,
            gamma,
            beta: normal(s.cols, 0.2, &mut rng),
            dout: normal((s.rows, s.cols), 1.0, &mut rng),
        }
    }
}

/// The layer's forward as a user writes it (batch statistics, then scale and shift).
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

/// One step through the generated [`batchnorm_forward_train`] and
/// [`batchnorm_forward_backward`], with `dout` as the output's gradient.
pub fn generated<T: Real>(d: &Data<T>) -> StepResult<T> {
    let (out, saved) = batchnorm_forward_train(d.x.view(), d.gamma.view(), d.beta.view());
    let loss = crate::dot_sum_f64(&out, &d.dout);
    let g = batchnorm_forward_backward(&saved, d.dout.view());
    StepResult {
        loss: T::lit(loss),
        grads: vec![
            ("x", g.x.into_dyn()),
            ("gamma", g.gamma.into_dyn()),
            ("beta", g.beta.into_dyn()),
        ],
    }
}

/// One step written by hand: forward in three passes over `x` (mean, variance of
/// the centered values, output as one multiply-add per element), backward in two
/// (`dbeta` and `dgamma` with `x_hat` recomputed, then `dx` as one multiply-add of
/// `dout` and `x` per element, with per-feature coefficients). Every pass walks the
/// rows, so the inner loops run along contiguous memory. Nothing of `[rows, cols]`
/// is allocated but `out` and `dx`.
pub fn hand<T: Real>(d: &Data<T>) -> StepResult<T> {
    let (n, c) = d.x.dim();
    let inv_n = T::one() / T::from_usize(n).expect("batch size fits the float type");

    // Forward.
    let mut mu = Array1::<T>::zeros(c);
    for row in d.x.rows() {
        Zip::from(&mut mu).and(&row).for_each(|m, &v| *m += v);
    }
    mu.mapv_inplace(|m| m * inv_n);
    let mut var = Array1::<T>::zeros(c);
    for row in d.x.rows() {
        Zip::from(&mut var)
            .and(&row)
            .and(&mu)
            .for_each(|s, &v, &m| *s += (v - m) * (v - m));
    }
    let inv_std = var.mapv(|s| T::one() / (s * inv_n + T::lit(EPS)).sqrt());
    // out = x_hat * gamma + beta = x * a + b0, per feature.
    let a = &inv_std * &d.gamma;
    let b0 = Zip::from(&d.beta)
        .and(&mu)
        .and(&a)
        .map_collect(|&beta, &m, &a| beta - m * a);
    let out = Zip::from(&d.x)
        .and_broadcast(&a)
        .and_broadcast(&b0)
        .map_collect(|&x, &a, &b| x * a + b);
    let loss = crate::dot_sum_f64(&out, &d.dout);

    // Backward.
    let mut d_beta = Array1::<T>::zeros(c);
    let mut d_gamma = Array1::<T>::zeros(c);
    for (x, g) in d.x.rows().into_iter().zip(d.dout.rows()) {
        Zip::from(&mut d_beta)
            .and(&mut d_gamma)
            .and(&x)
            .and(&g)
            .and(&mu)
            .for_each(|db, dg, &x, &g, &m| {
                *db += g;
                *dg += g * (x - m);
            });
    }
    Zip::from(&mut d_gamma)
        .and(&inv_std)
        .for_each(|dg, &s| *dg *= s);
    // dx = gamma inv_std (dout - d_beta / n - x_hat d_gamma / n) = k_g dout + k_x x + k_0.
    let k_g = a;
    let k_x = Zip::from(&k_g)
        .and(&inv_std)
        .and(&d_gamma)
        .map_collect(|&k, &s, &dg| -k * s * dg * inv_n);
    let k_0 = Zip::from(&k_g)
        .and(&k_x)
        .and(&mu)
        .and(&d_beta)
        .map_collect(|&k, &kx, &m, &db| -kx * m - k * db * inv_n);
    let d_x = Zip::from(&d.dout)
        .and(&d.x)
        .and_broadcast(&k_g)
        .and_broadcast(&k_x)
        .and_broadcast(&k_0)
        .map_collect(|&g, &x, &kg, &kx, &k0| kg * g + kx * x + k0);
    StepResult {
        loss: T::lit(loss),
        grads: vec![
            ("x", d_x.into_dyn()),
            ("gamma", d_gamma.into_dyn()),
            ("beta", d_beta.into_dyn()),
        ],
    }
}

/// The variants at full size in `f32`.
pub fn variants(seed: u64) -> Vec<Variant> {
    crate::hand_and_generated(Data::<f32>::new(Sizes::FULL, seed), hand, generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_and_hand_written_agree() {
        crate::assert_agree(|seed| Data::<f64>::new(Sizes::SMALL, seed), generated, hand);
    }
}
