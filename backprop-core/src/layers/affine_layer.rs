//! The fully connected layer.

use backprop_macros::differentiable;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Ix1, Ix2};

use crate::{Param, Real, SeededRng, init};

/// A fully connected layer, `y = x w + b`, with `x` of shape `[batch, inputs]`,
/// `w` of shape `[inputs, outputs]` and `b` of shape `[outputs]`; see [`affine`].
#[derive(Clone, Debug, PartialEq)]
pub struct Affine<T: Real> {
    /// The weights, `[inputs, outputs]`.
    pub w: Param<T, Ix2>,
    /// The bias, `[outputs]`.
    pub b: Param<T, Ix1>,
}

impl<T: Real> Affine<T> {
    /// A layer from `inputs` to `outputs` features with He-normal weights
    /// ([`init::he_normal`], for ReLU networks) and a zero bias.
    pub fn new(inputs: usize, outputs: usize, rng: &mut SeededRng) -> Self {
        Self::from_arrays(
            init::he_normal((inputs, outputs), rng),
            init::zeros(outputs),
        )
    }

    /// A layer from `inputs` to `outputs` features with Xavier-uniform weights
    /// ([`init::xavier_uniform`], for tanh and sigmoid networks) and a zero bias.
    pub fn xavier(inputs: usize, outputs: usize, rng: &mut SeededRng) -> Self {
        Self::from_arrays(
            init::xavier_uniform((inputs, outputs), rng),
            init::zeros(outputs),
        )
    }

    /// A layer with the given weights `[inputs, outputs]` and bias `[outputs]`.
    ///
    /// # Panics
    /// If the bias length is not the number of columns of `w`.
    pub fn from_arrays(w: Array2<T>, b: Array1<T>) -> Self {
        assert_eq!(
            w.ncols(),
            b.len(),
            "the bias has {} elements but the weights {:?} have {} outputs",
            b.len(),
            w.shape(),
            w.ncols()
        );
        Affine {
            w: Param::new(w),
            b: Param::new(b),
        }
    }
}

/// `y = x w + b`: `[batch, inputs]` times `[inputs, outputs]`, plus `[outputs]` on every row.
#[differentiable(layer = Affine, check(x = [4, 3], w = [3, 5], b = [5]))]
pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w) + &b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;
    use crate::test_util::{check, random};

    #[test]
    fn affine_passes_the_gradient_check() {
        let mut rng = SeededRng::new(0);
        let mut layer = Affine::new(3, 4, &mut rng);
        layer.b.value = random(4, 2);
        check(&mut layer, &random((5, 3), 1));
    }

    #[test]
    fn affine_computes_x_w_plus_b() {
        let layer = Affine::from_arrays(
            ndarray::array![[1.0, 2.0], [3.0, 4.0]],
            ndarray::array![0.5, -0.5],
        );
        assert_eq!(
            layer.forward(&ndarray::array![[1.0, 1.0]]),
            ndarray::array![[4.5, 5.5]]
        );
        let mut rng = SeededRng::new(0);
        let layer: Affine<f32> = Affine::xavier(3, 2, &mut rng);
        assert_eq!(layer.w.value.shape(), &[3, 2]);
    }
}
