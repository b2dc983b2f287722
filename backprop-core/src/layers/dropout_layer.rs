//! Inverted dropout.

use backprop_macros::differentiable;
use ndarray::{Array2, ArrayView2};

use crate::{Layer, Parameters, Real, SeededRng};

/// Inverted dropout (Srivastava et al., 2014): in training, `y = x * mask` where each
/// element of `mask` is 0 with probability `p` and `1 / (1 - p)` otherwise, so the
/// expected output is `x`; in evaluation, `y = x`. See [`dropout`].
///
/// Masks are drawn from the layer's own [`SeededRng`], so a seed fixes them all.
/// For a gradient check, fix the mask: set [`Dropout::fixed_mask`] (for example to
/// [`Dropout::sample_mask`]) and every training forward uses it.
#[derive(Clone, Debug, Parameters)]
pub struct Dropout<T: Real> {
    p: f64,
    rng: SeededRng,
    /// If set, the mask every training forward uses instead of drawing one.
    pub fixed_mask: Option<Array2<T>>,
}

impl<T: Real> Dropout<T> {
    /// Dropout with drop probability `p`, drawing masks from a generator forked from `rng`.
    ///
    /// # Panics
    /// Unless `0 <= p < 1`.
    pub fn new(p: f64, rng: &mut SeededRng) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "the dropout probability must be in [0, 1), got {p}"
        );
        Dropout {
            p,
            rng: rng.fork(),
            fixed_mask: None,
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Draws a mask of shape `[rows, cols]`: 0 with probability `p`, else `1 / (1 - p)`.
    pub fn sample_mask(&mut self, rows: usize, cols: usize) -> Array2<T> {
        let keep = T::lit(1.0 / (1.0 - self.p));
        Array2::from_shape_simple_fn((rows, cols), || {
            if self.rng.bernoulli(self.p) {
                T::zero()
            } else {
                keep
            }
        })
    }
}

/// `y = x * mask` elementwise; `mask` holds 0 for dropped elements and `1 / (1 - p)` for kept ones.
#[differentiable(check(x = [4, 3], mask = [4, 3]))]
pub fn dropout<T: Real>(x: ArrayView2<T>, #[no_grad] mask: ArrayView2<T>) -> Array2<T> {
    x * &mask
}

impl<T: Real> Layer<T> for Dropout<T> {
    type Input = Array2<T>;
    type Output = Array2<T>;
    type InputGrad = Array2<T>;
    type Saved = DropoutSaved<T>;

    /// Evaluation: the identity.
    fn forward(&self, x: &Array2<T>) -> Array2<T> {
        x.clone()
    }

    fn forward_train(&mut self, x: &Array2<T>) -> (Array2<T>, DropoutSaved<T>) {
        let mask = match &self.fixed_mask {
            Some(mask) => mask.clone(),
            None => self.sample_mask(x.nrows(), x.ncols()),
        };
        dropout_train(x.view(), mask.view())
    }

    fn backward(&mut self, saved: DropoutSaved<T>, d_out: &Array2<T>) -> Array2<T> {
        dropout_backward(&saved, d_out.view()).x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{check, random};

    #[test]
    fn dropout_with_a_fixed_mask_passes_the_gradient_check() {
        let mut layer = Dropout::new(0.5, &mut SeededRng::new(0));
        layer.fixed_mask = Some(layer.sample_mask(4, 6));
        check(&mut layer, &random((4, 6), 1));
    }

    #[test]
    fn dropout_drops_a_fraction_p_and_keeps_the_mean() {
        let p = 0.3;
        let mut layer = Dropout::<f64>::new(p, &mut SeededRng::new(5));
        let x = Array2::ones((200, 100));
        let (y, saved) = layer.forward_train(&x);
        let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        assert!((dropped - p).abs() < 0.01, "dropped fraction {dropped}");
        assert!(
            y.iter()
                .all(|&v| v == 0.0 || (v - 1.0 / (1.0 - p)).abs() < 1e-12)
        );
        assert!((y.mean().unwrap() - 1.0).abs() < 0.02);
        // The backward lets the gradient through exactly where the forward did.
        let d_x = layer.backward(saved, &x);
        assert_eq!(d_x, y);
        // Two training passes draw different masks; evaluation is the identity.
        assert_ne!(layer.forward_train(&x).0, y);
        assert_eq!(layer.forward(&x), x);
    }

    #[test]
    fn the_same_seed_draws_the_same_masks() {
        let x = random((3, 4), 2);
        let mut a = Dropout::new(0.5, &mut SeededRng::new(9));
        let mut b = Dropout::new(0.5, &mut SeededRng::new(9));
        assert_eq!(a.forward_train(&x).0, b.forward_train(&x).0);
    }

    #[test]
    #[should_panic(expected = "must be in [0, 1)")]
    fn dropout_rejects_p_of_one() {
        Dropout::<f64>::new(1.0, &mut SeededRng::new(0));
    }
}
