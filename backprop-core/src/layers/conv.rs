//! Convolution, max-pooling and flattening for image batches laid out
//! `[batch, channels, height, width]`.

use backprop_macros::differentiable;
use ndarray::{Array1, Array2, Array4, ArrayView1, ArrayView4, Ix1, Ix4};

use crate::{Param, Real, SeededRng, init};

/// A 2-D convolution layer: `y = conv2d(x, w, stride, pad) + b` per output channel,
/// with kernels `w` of shape `[filters, channels, kh, kw]`; see [`conv2d_layer`].
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d<T: Real> {
    /// The kernels, `[filters, channels, kh, kw]`.
    pub w: Param<T, Ix4>,
    /// One bias per filter, `[filters]`.
    pub b: Param<T, Ix1>,
    /// The step between windows.
    pub stride: usize,
    /// Zero padding added on every side.
    pub pad: usize,
}

impl<T: Real> Conv2d<T> {
    /// `filters` kernels of `size x size` over `channels`, He-normal initialized
    /// (fan-in `channels * size * size`), zero bias.
    pub fn new(
        channels: usize,
        filters: usize,
        size: usize,
        stride: usize,
        pad: usize,
        rng: &mut SeededRng,
    ) -> Self {
        Self::from_arrays(
            init::he_normal((filters, channels, size, size), rng),
            init::zeros(filters),
            stride,
            pad,
        )
    }

    /// A layer with the given kernels and bias.
    ///
    /// # Panics
    /// If the bias does not have one element per kernel, or the stride is 0.
    pub fn from_arrays(w: Array4<T>, b: Array1<T>, stride: usize, pad: usize) -> Self {
        assert_eq!(
            w.shape()[0],
            b.len(),
            "the bias has {} elements for {} kernels",
            b.len(),
            w.shape()[0]
        );
        assert!(stride > 0, "the stride of a convolution must be at least 1");
        Conv2d {
            w: Param::new(w),
            b: Param::new(b),
            stride,
            pad,
        }
    }
}

/// Cross-correlation of `[batch, channels, h, w]` images with `[filters, channels, kh, kw]`
/// kernels, plus a bias per filter: `[batch, filters, oh, ow]`.
#[differentiable(
    layer = Conv2d,
    check(x = [2, 2, 5, 5], w = [3, 2, 3, 3], b = [3], stride = 1, pad = 1)
)]
pub fn conv2d_layer<T: Real>(
    x: ArrayView4<T>,
    w: ArrayView4<T>,
    b: ArrayView1<T>,
    stride: usize,
    pad: usize,
) -> Array4<T> {
    let bias = b.insert_axis(Axis(1)).insert_axis(Axis(2));
    conv2d(x, w, stride, pad) + &bias
}

/// 2x2 max-pooling with stride 2; see [`max_pool2_layer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxPool2;

/// The maximum of each 2x2 window: `[n, c, h, w] -> [n, c, h / 2, w / 2]`.
#[differentiable(layer = MaxPool2<>, check(x = [2, 2, 4, 4]))]
pub fn max_pool2_layer<T: Real>(x: ArrayView4<T>) -> Array4<T> {
    max_pool2(x)
}

/// Flattens images to feature rows, `[n, c, h, w] -> [n, c * h * w]`, to feed an
/// [`Affine`](super::Affine) layer; see [`flatten_layer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

/// `[n, c, h, w] -> [n, c * h * w]`.
#[differentiable(layer = Flatten<>, check(x = [2, 2, 3, 3]))]
pub fn flatten_layer<T: Real>(x: ArrayView4<T>) -> Array2<T> {
    flatten(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GradCheck, check_layer};

    fn images(shape: (usize, usize, usize, usize)) -> Array4<f64> {
        // Distinct values, so no pooling window has a tie (a kink).
        Array4::from_shape_fn(shape, |(a, b, c, d)| {
            ((a * 131 + b * 37 + c * 11 + d) as f64 * 0.618).sin()
        })
    }

    #[test]
    fn conv2d_layer_gradients() {
        let mut rng = SeededRng::new(4);
        for (stride, pad) in [(1, 1), (2, 0)] {
            let mut layer = Conv2d::<f64>::new(2, 3, 3, stride, pad, &mut rng);
            layer.b.value = Array1::from(vec![0.1, -0.2, 0.3]);
            check_layer(&mut layer, &images((2, 2, 5, 6)), &GradCheck::default()).assert_passed();
        }
    }

    #[test]
    fn pooling_and_flatten_gradients() {
        check_layer(&mut MaxPool2, &images((2, 3, 4, 6)), &GradCheck::default()).assert_passed();
        check_layer(&mut Flatten, &images((2, 3, 2, 2)), &GradCheck::default()).assert_passed();
    }

    #[test]
    fn shapes_through_a_small_cnn() {
        let mut rng = SeededRng::new(5);
        let conv = Conv2d::<f32>::new(1, 4, 3, 1, 1, &mut rng);
        let x = Array4::<f32>::zeros((7, 1, 8, 8));
        let y = crate::Layer::forward(&conv, &x);
        assert_eq!(y.shape(), &[7, 4, 8, 8]);
        let p = crate::Layer::<f32>::forward(&MaxPool2, &y);
        assert_eq!(p.shape(), &[7, 4, 4, 4]);
        let f = crate::Layer::<f32>::forward(&Flatten, &p);
        assert_eq!(f.shape(), &[7, 64]);
    }
}
