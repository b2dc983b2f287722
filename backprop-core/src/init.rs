//! Weight initialization: arrays of a given shape filled from a [`SeededRng`].
//!
//! Every function takes the shape as anything ndarray accepts as a dimension
//! (`(3, 4)`, `[3, 4]`, `&[3, 4][..]`, `vec![3, 4]`) and returns an array of that
//! rank. Values are drawn in `f64`, in row-major order, and rounded to `T`, so the
//! same seed gives the same weights in every run, and an `f32` model holds the
//! rounded values of its `f64` twin.
//!
//! ```
//! use backprop_core::{init, Param, SeededRng};
//! use ndarray::{Ix1, Ix2};
//!
//! let mut rng = SeededRng::new(0);
//! // An affine layer computes x.dot(&w) with w of shape [in, out].
//! let w: Param<f32, Ix2> = Param::new(init::he_normal((784, 128), &mut rng));
//! let b: Param<f32, Ix1> = Param::new(init::zeros(128));
//! assert_eq!(w.value.shape(), &[784, 128]);
//! assert_eq!(b.value.sum(), 0.0);
//! ```

use ndarray::{Array, Array2, Axis, Dimension, IntoDimension};

use crate::{Real, SeededRng};

/// The `(fan_in, fan_out)` of a weight shape, as the scaled initializers use them.
///
/// - A matrix `[fan_in, fan_out]`: the affine layers compute `x.dot(&w)` with `w`
///   of shape `[in, out]`, so the first axis is the input side. (PyTorch stores
///   `[out, in]`; the fans here are the same numbers for the same layer.)
/// - A convolution kernel `[out_c, in_c, k1, k2, ...]`:
///   `fan_in = in_c * k1 * k2 * ...` and `fan_out = out_c * k1 * k2 * ...`.
///
/// # Panics
/// If the shape has fewer than two axes: a vector has no input and output side.
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match *shape {
        [] | [_] => panic!(
            "fan-in and fan-out are defined for shapes of rank 2 or more, not {shape:?}; \
             initialize biases with `zeros` or `constant`"
        ),
        [fan_in, fan_out] => (fan_in, fan_out),
        [out_c, in_c, ref kernel @ ..] => {
            let kernel_size: usize = kernel.iter().product();
            (in_c * kernel_size, out_c * kernel_size)
        }
    }
}

/// An array of zeros.
pub fn zeros<T: Real, Sh: IntoDimension>(shape: Sh) -> Array<T, Sh::Dim> {
    Array::zeros(shape.into_dimension())
}

/// An array filled with `value`.
pub fn constant<T: Real, Sh: IntoDimension>(shape: Sh, value: f64) -> Array<T, Sh::Dim> {
    Array::from_elem(shape.into_dimension(), T::lit(value))
}

/// Samples from the normal distribution with mean 0 and standard deviation `std`.
pub fn normal<T: Real, Sh: IntoDimension>(
    shape: Sh,
    std: f64,
    rng: &mut SeededRng,
) -> Array<T, Sh::Dim> {
    sample(shape.into_dimension(), || std * rng.normal())
}

/// Samples from the uniform distribution on `[lo, hi)`.
pub fn uniform<T: Real, Sh: IntoDimension>(
    shape: Sh,
    lo: f64,
    hi: f64,
    rng: &mut SeededRng,
) -> Array<T, Sh::Dim> {
    sample(shape.into_dimension(), || rng.uniform_in(lo, hi))
}

/// Xavier/Glorot uniform: `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`, so the
/// variance is `2 / (fan_in + fan_out)`. Suits tanh and sigmoid layers. See [`fans`].
///
/// # Panics
/// If the shape has fewer than two axes.
pub fn xavier_uniform<T: Real, Sh: IntoDimension>(
    shape: Sh,
    rng: &mut SeededRng,
) -> Array<T, Sh::Dim> {
    let dim = shape.into_dimension();
    let (fan_in, fan_out) = fans(dim.slice());
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    uniform(dim, -bound, bound, rng)
}

/// Xavier/Glorot normal: standard deviation `sqrt(2 / (fan_in + fan_out))`.
/// See [`fans`].
///
/// # Panics
/// If the shape has fewer than two axes.
pub fn xavier_normal<T: Real, Sh: IntoDimension>(
    shape: Sh,
    rng: &mut SeededRng,
) -> Array<T, Sh::Dim> {
    let dim = shape.into_dimension();
    let (fan_in, fan_out) = fans(dim.slice());
    normal(dim, (2.0 / (fan_in + fan_out) as f64).sqrt(), rng)
}

/// He/Kaiming normal for ReLU layers: standard deviation `sqrt(2 / fan_in)`.
/// See [`fans`].
///
/// # Panics
/// If the shape has fewer than two axes.
pub fn he_normal<T: Real, Sh: IntoDimension>(shape: Sh, rng: &mut SeededRng) -> Array<T, Sh::Dim> {
    let dim = shape.into_dimension();
    let (fan_in, _) = fans(dim.slice());
    normal(dim, (2.0 / fan_in as f64).sqrt(), rng)
}

/// He/Kaiming uniform for ReLU layers: `U(-a, a)` with `a = sqrt(6 / fan_in)`, so the
/// variance is `2 / fan_in`. See [`fans`].
///
/// # Panics
/// If the shape has fewer than two axes.
pub fn he_uniform<T: Real, Sh: IntoDimension>(shape: Sh, rng: &mut SeededRng) -> Array<T, Sh::Dim> {
    let dim = shape.into_dimension();
    let (fan_in, _) = fans(dim.slice());
    let bound = (6.0 / fan_in as f64).sqrt();
    uniform(dim, -bound, bound, rng)
}

/// A (semi-)orthogonal matrix times `gain`, for recurrent weights.
///
/// The shape is seen as a matrix of `shape[0]` rows by the product of the other
/// axes. A tall or square matrix gets orthonormal columns (`QᵀQ = I`), a wide one
/// orthonormal rows (`QQᵀ = I`). The matrix is the Q factor of a Gaussian matrix
/// (Gram-Schmidt), so it is uniformly distributed over the orthogonal matrices.
///
/// # Panics
/// If the shape has fewer than two axes.
pub fn orthogonal<T: Real, Sh: IntoDimension>(
    shape: Sh,
    gain: f64,
    rng: &mut SeededRng,
) -> Array<T, Sh::Dim> {
    let dim = shape.into_dimension();
    let (rows, cols) = match dim.slice() {
        [rows, rest @ ..] if !rest.is_empty() => (*rows, rest.iter().product()),
        other => panic!("orthogonal initialization needs a shape of rank 2 or more, not {other:?}"),
    };
    // Orthonormalize the columns of a tall Gaussian matrix; a wide shape is its transpose.
    let (long, short) = (rows.max(cols), rows.min(cols));
    let mut q: Array2<f64> = sample((long, short).into_dimension(), || rng.normal());
    orthonormalize_columns(&mut q);
    let q = if rows >= cols { q } else { q.reversed_axes() };
    // `iter` walks in logical (row-major) order, also through the transpose.
    let values = q.iter().map(|&x| T::lit(gain * x)).collect();
    Array::from_shape_vec(dim, values).expect("the matrix has one value per element")
}

/// `draw()` for each element, in row-major order.
fn sample<T: Real, D: Dimension>(dim: D, mut draw: impl FnMut() -> f64) -> Array<T, D> {
    let values = (0..dim.size()).map(|_| T::lit(draw())).collect();
    Array::from_shape_vec(dim, values).expect("one value per element")
}

/// Gram-Schmidt on the columns of a matrix with at least as many rows as columns.
/// Each column is projected out twice ("twice is enough"), which makes the columns
/// orthonormal to rounding error.
fn orthonormalize_columns(a: &mut Array2<f64>) {
    for j in 0..a.ncols() {
        let (done, mut rest) = a.view_mut().split_at(Axis(1), j);
        let mut column = rest.column_mut(0);
        for _pass in 0..2 {
            for q in done.columns() {
                let overlap = q.dot(&column);
                column.scaled_add(-overlap, &q);
            }
        }
        let norm = column.dot(&column).sqrt();
        column /= norm;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD};

    /// Mean and (population) variance of the values.
    fn moments<D: Dimension>(a: &Array<f64, D>) -> (f64, f64) {
        let n = a.len() as f64;
        let mean = a.sum() / n;
        let variance = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (mean, variance)
    }

    /// Checks mean 0 and the expected variance on a large draw, within 3%.
    fn assert_moments<D: Dimension>(a: &Array<f64, D>, variance: f64) {
        let (m, v) = moments(a);
        assert!(m.abs() < 0.01 * variance.sqrt(), "mean {m}");
        assert!(
            (v / variance - 1.0).abs() < 0.03,
            "variance {v}, expected {variance}"
        );
    }

    #[test]
    fn fans_of_matrices_and_kernels() {
        assert_eq!(fans(&[784, 128]), (784, 128));
        // [out_c, in_c, kh, kw]
        assert_eq!(fans(&[8, 4, 3, 3]), (4 * 9, 8 * 9));
        // conv1d [out_c, in_c, k]
        assert_eq!(fans(&[6, 2, 5]), (10, 30));
    }

    #[test]
    #[should_panic(expected = "rank 2 or more")]
    fn fans_of_a_vector_panic() {
        fans(&[10]);
    }

    #[test]
    fn scaled_initializers_have_the_documented_variance() {
        let mut rng = SeededRng::new(11);
        // 200 000 samples: the relative standard error of the variance is below 0.4%.
        let (fan_in, fan_out) = (400, 500);
        let glorot = 2.0 / (fan_in + fan_out) as f64;
        let he = 2.0 / fan_in as f64;
        let shape = (fan_in, fan_out);
        assert_moments(&xavier_uniform(shape, &mut rng), glorot);
        assert_moments(&xavier_normal(shape, &mut rng), glorot);
        assert_moments(&he_normal(shape, &mut rng), he);
        assert_moments(&he_uniform(shape, &mut rng), he);
        // A conv kernel: fan_in = 20 * 3 * 3 = 180.
        let kernel: ArrayD<f64> = he_normal(&[100, 20, 3, 3][..], &mut rng);
        assert_eq!(kernel.shape(), &[100, 20, 3, 3]);
        assert_moments(&kernel, 2.0 / 180.0);
    }

    #[test]
    fn plain_distributions() {
        let mut rng = SeededRng::new(12);
        assert_moments(&normal((200, 1000), 0.5, &mut rng), 0.25);
        let u: Array2<f64> = uniform((200, 1000), 1.0, 3.0, &mut rng);
        assert!(u.iter().all(|x| (1.0..3.0).contains(x)));
        let (mean, variance) = moments(&u);
        // U(1, 3): mean 2, variance (3 - 1)^2 / 12 = 1/3.
        assert!((mean - 2.0).abs() < 0.01);
        assert!((variance * 3.0 - 1.0).abs() < 0.03);
        assert_eq!(zeros::<f32, _>((2, 3)), Array2::<f32>::zeros((2, 3)));
        assert_eq!(constant::<f32, _>(4, 0.5), ndarray::arr1(&[0.5f32; 4]));
    }

    /// `a.dot(aᵀ)` compared with `gain² I`, within 1e-10.
    fn assert_orthonormal_rows(a: &Array2<f64>, gain: f64) {
        let product = a.dot(&a.t());
        let expected = Array2::<f64>::eye(a.nrows()) * gain * gain;
        let error = (&product - &expected)
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(error < 1e-10, "max |QQᵀ - g²I| = {error}");
    }

    #[test]
    fn orthogonal_tall_wide_and_square() {
        let mut rng = SeededRng::new(13);
        // Tall: QᵀQ = I.
        let tall: Array2<f64> = orthogonal((50, 20), 1.0, &mut rng);
        assert_orthonormal_rows(&tall.t().to_owned(), 1.0);
        // Wide: QQᵀ = I.
        let wide: Array2<f64> = orthogonal((20, 50), 1.0, &mut rng);
        assert_orthonormal_rows(&wide, 1.0);
        // Square, with a gain: both products are g² I.
        let square: Array2<f64> = orthogonal((30, 30), 2.0, &mut rng);
        assert_orthonormal_rows(&square, 2.0);
        assert_orthonormal_rows(&square.t().to_owned(), 2.0);
        // Rank 3 is flattened to [4, 2 * 3]: a wide matrix.
        let kernel: ArrayD<f64> = orthogonal(vec![4, 2, 3], 1.0, &mut rng);
        let flat = kernel.into_shape_with_order((4, 6)).unwrap();
        assert_orthonormal_rows(&flat.into_dimensionality().unwrap(), 1.0);
    }

    #[test]
    fn same_seed_gives_bit_identical_weights() {
        type Init = fn(&mut SeededRng) -> Array2<f64>;
        let initializers: [Init; 6] = [
            |rng| xavier_uniform((7, 5), rng),
            |rng| xavier_normal((7, 5), rng),
            |rng| he_normal((7, 5), rng),
            |rng| he_uniform((7, 5), rng),
            |rng| normal((7, 5), 1.0, rng),
            |rng| orthogonal((7, 5), 1.0, rng),
        ];
        for init in initializers {
            let a = init(&mut SeededRng::new(5));
            let b = init(&mut SeededRng::new(5));
            let c = init(&mut SeededRng::new(6));
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
            assert_ne!(a, c);
        }
        // An f32 draw holds the rounded f64 draw.
        let wide: Array2<f64> = he_normal((3, 4), &mut SeededRng::new(9));
        let narrow: Array2<f32> = he_normal((3, 4), &mut SeededRng::new(9));
        assert_eq!(narrow, wide.mapv(|x| x as f32));
    }
}
