//! Reductions and the softmax family, each with its fused derivative kernel.
//! `logsumexp`, `softmax` and `log_softmax` subtract the maximum first, so they
//! never overflow.

use ndarray::{Array, Array0, ArrayRef, Axis, Dimension, Ix0, IxDyn, RemoveAxis, Zip};

use crate::Real;
use crate::Site;

fn check_axis(ndim: usize, axis: Axis, op: &'static str) {
    if axis.index() >= ndim {
        Site::internal(op).shape_mismatch(
            &[ndim],
            &[axis.index()],
            "the axis is out of range for the rank",
        )
    }
}

fn to_dim<T, D: Dimension>(a: Array<T, IxDyn>) -> Array<T, D> {
    a.into_dimensionality::<D>()
        .expect("rank fixed by the types")
}

/// `g` with `axis` put back and stretched to `shape` (a reduction over `axis`, undone).
fn restore_axis<T: Real, E: Dimension, D: Dimension>(
    g: &ArrayRef<T, E>,
    axis: Axis,
    shape: &D,
) -> Array<T, D> {
    let g = g.view().into_dyn().insert_axis(axis);
    let v = g.broadcast(shape.clone().into_dyn()).unwrap_or_else(|| {
        Site::internal("restore_axis").shape_mismatch(g.shape(), shape.slice(), "cannot broadcast")
    });
    to_dim(v.to_owned())
}

/// `x` with a new axis of length 1 at `axis` (NumPy's `keepdims`, `x[:, None]`).
pub fn insert_axis<T: Real, D: Dimension>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D::Larger> {
    if axis.index() > x.ndim() {
        Site::internal("insert_axis").shape_mismatch(
            x.shape(),
            &[axis.index()],
            "the axis is out of range for the rank",
        )
    }
    x.to_owned().insert_axis(axis)
}

/// Derivative of [`insert_axis`]: the length-1 axis removed again.
pub fn insert_axis_backward<T: Real, D: RemoveAxis>(
    g: &ArrayRef<T, D>,
    axis: Axis,
) -> Array<T, D::Smaller> {
    g.index_axis(axis, 0).to_owned()
}

/// Sum of all elements, as a 0-d array. Backward: [`crate::broadcast_to`].
pub fn sum<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array0<T> {
    ndarray::arr0(x.sum())
}

/// Mean of all elements, as a 0-d array (NaN for an empty array).
pub fn mean<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array0<T> {
    ndarray::arr0(x.sum() / T::from_usize(x.len()).unwrap_or_else(T::nan))
}

/// Derivative of [`mean`]: `g / n` everywhere.
pub fn mean_backward<T: Real, D: Dimension>(g: &ArrayRef<T, Ix0>, shape: D) -> Array<T, D> {
    let n = T::from_usize(shape.size()).unwrap_or_else(T::nan);
    Array::from_elem(shape, g[()] / n)
}

/// Sum along `axis`.
pub fn sum_axis<T: Real, D: RemoveAxis>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D::Smaller> {
    check_axis(x.ndim(), axis, "sum_axis");
    // Along the first axis of a contiguous array: its rows added in order,
    // vectorized (a column sum, the most common reduction of a batch), as a
    // bias gradient is.
    if axis == Axis(0) && x.ndim() >= 2 && x.is_standard_layout() {
        let mut acc = Array::zeros(x.raw_dim().remove_axis(axis));
        crate::accumulate_to(&mut acc, x);
        return acc;
    }
    x.sum_axis(axis)
}

/// Derivative of [`sum_axis`]: `g` copied along `axis`.
pub fn sum_axis_backward<T: Real, E: Dimension, D: Dimension>(
    g: &ArrayRef<T, E>,
    axis: Axis,
    shape: D,
) -> Array<T, D> {
    restore_axis(g, axis, &shape)
}

/// Mean along `axis`.
pub fn mean_axis<T: Real, D: RemoveAxis>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D::Smaller> {
    check_axis(x.ndim(), axis, "mean_axis");
    let n = T::from_usize(x.len_of(axis)).unwrap_or_else(T::nan);
    sum_axis(x, axis).mapv(|s| s / n)
}

/// Derivative of [`mean_axis`]: `g / n` copied along `axis`.
pub fn mean_axis_backward<T: Real, E: Dimension, D: Dimension>(
    g: &ArrayRef<T, E>,
    axis: Axis,
    shape: D,
) -> Array<T, D> {
    let n = T::from_usize(shape.slice()[axis.index()]).unwrap_or_else(T::nan);
    restore_axis(g, axis, &shape).mapv(|v| v / n)
}

/// Maximum along `axis` (NaN propagates).
pub fn max_axis<T: Real, D: RemoveAxis>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D::Smaller> {
    check_axis(x.ndim(), axis, "max_axis");
    x.fold_axis(axis, T::neg_infinity(), |&m, &v| {
        if v > m || v.is_nan() { v } else { m }
    })
}

/// Derivative of [`max_axis`]: `g` goes to the first position of the maximum in each lane.
pub fn max_axis_backward<T: Real, D: RemoveAxis>(
    x: &ArrayRef<T, D>,
    y: &ArrayRef<T, D::Smaller>,
    g: &ArrayRef<T, D::Smaller>,
    axis: Axis,
) -> Array<T, D> {
    let mut dx = Array::zeros(x.raw_dim());
    Zip::from(dx.lanes_mut(axis))
        .and(x.lanes(axis))
        .and(y)
        .and(g)
        .for_each(|mut d, lane, &m, &g| {
            if let Some(i) = lane.iter().position(|&v| v == m) {
                d[i] = g;
            }
        });
    dx
}

/// `ln(sum(exp(x)))` along `axis`, computed as `m + ln(sum(exp(x - m)))` with `m` the maximum.
pub fn logsumexp<T: Real, D: RemoveAxis>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D::Smaller> {
    let m = max_axis(x, axis);
    let mut s = Array::zeros(m.raw_dim());
    Zip::from(&mut s)
        .and(x.lanes(axis))
        .and(&m)
        .for_each(|s, lane, &m| {
            // An all -inf lane has sum 0 and logsumexp -inf; keep m finite for the shift.
            let shift = if m.is_finite() { m } else { T::zero() };
            *s = shift + lane.iter().map(|&v| (v - shift).exp()).sum::<T>().ln();
        });
    s
}

/// Derivative of [`logsumexp`]: `g * softmax(x)` along `axis`, that is `g * exp(x - y)`
/// (zero for a lane that is entirely `-inf`, whose softmax is taken as zero).
pub fn logsumexp_backward<T: Real, D: RemoveAxis>(
    x: &ArrayRef<T, D>,
    y: &ArrayRef<T, D::Smaller>,
    g: &ArrayRef<T, D::Smaller>,
    axis: Axis,
) -> Array<T, D> {
    let mut dx = Array::zeros(x.raw_dim());
    Zip::from(dx.lanes_mut(axis))
        .and(x.lanes(axis))
        .and(y)
        .and(g)
        .for_each(|mut d, lane, &y, &g| {
            Zip::from(&mut d)
                .and(&lane)
                .for_each(|d, &v| *d = g * shifted_exp(v, y));
        });
    dx
}

/// `exp(v - m)` with `exp(-inf - -inf)` taken as 0: a lane that is entirely `-inf`
/// (every entry masked out) has no mass, where the plain formula gives NaN.
fn shifted_exp<T: Real>(v: T, m: T) -> T {
    if m == T::neg_infinity() {
        T::zero()
    } else {
        (v - m).exp()
    }
}

/// Softmax along `axis`: `exp(x - m) / sum(exp(x - m))` with `m` the lane's maximum.
///
/// A lane that is entirely `-inf` (every entry masked out) gives zeros, as
/// [`logsumexp`] gives `-inf` there, and its gradient is zero; a `+inf` or NaN
/// entry gives NaN.
pub fn softmax<T: Real, D: RemoveAxis>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D> {
    check_axis(x.ndim(), axis, "softmax");
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let m = lane.fold(T::neg_infinity(), |m, &v| m.max(v));
        lane.mapv_inplace(|v| shifted_exp(v, m));
        // Only a lane that is all `-inf` sums to 0; NaN stays NaN.
        let s = lane.sum();
        if s != T::zero() {
            lane.mapv_inplace(|v| v / s);
        }
    }
    y
}

/// Derivative of [`softmax`]: `y * (g - sum(g * y))` along `axis`.
pub fn softmax_backward<T: Real, D: RemoveAxis>(
    y: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    axis: Axis,
) -> Array<T, D> {
    let mut dx = Array::zeros(y.raw_dim());
    Zip::from(dx.lanes_mut(axis))
        .and(y.lanes(axis))
        .and(g.lanes(axis))
        .for_each(|mut d, y, g| {
            let dot: T = y.iter().zip(g.iter()).map(|(&y, &g)| y * g).sum();
            Zip::from(&mut d)
                .and(&y)
                .and(&g)
                .for_each(|d, &y, &g| *d = y * (g - dot));
        });
    dx
}

/// Log-softmax along `axis`: `x - logsumexp(x)`.
///
/// A lane that is entirely `-inf` stays `-inf` (the log of [`softmax`]'s zeros),
/// with a finite gradient; a `+inf` or NaN entry gives NaN.
pub fn log_softmax<T: Real, D: RemoveAxis>(x: &ArrayRef<T, D>, axis: Axis) -> Array<T, D> {
    check_axis(x.ndim(), axis, "log_softmax");
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let m = lane.fold(T::neg_infinity(), |m, &v| m.max(v));
        if m == T::neg_infinity() {
            continue;
        }
        let lse = m + lane.iter().map(|&v| (v - m).exp()).sum::<T>().ln();
        lane.mapv_inplace(|v| v - lse);
    }
    y
}

/// Derivative of [`log_softmax`]: `g - exp(y) * sum(g)` along `axis`.
pub fn log_softmax_backward<T: Real, D: RemoveAxis>(
    y: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    axis: Axis,
) -> Array<T, D> {
    let mut dx = Array::zeros(y.raw_dim());
    Zip::from(dx.lanes_mut(axis))
        .and(y.lanes(axis))
        .and(g.lanes(axis))
        .for_each(|mut d, y, g| {
            let total = g.sum();
            Zip::from(&mut d)
                .and(&y)
                .and(&g)
                .for_each(|d, &y, &g| *d = g - y.exp() * total);
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn stable_forms_do_not_overflow() {
        let x: ndarray::Array2<f64> = array![[1000.0, 1000.0], [-1000.0, 0.0]];
        let s = softmax(&x, Axis(1));
        assert!((s[[0, 0]] - 0.5).abs() < 1e-15 && s[[1, 1]] > 0.999);
        let l = logsumexp(&x, Axis(1));
        assert!((l[0] - (1000.0 + 2f64.ln())).abs() < 1e-12);
        let ls = log_softmax(&x, Axis(1));
        assert!((ls[[0, 0]] + 2f64.ln()).abs() < 1e-12 && ls[[1, 0]] < -999.0);
    }

    /// A row with every entry masked out to `-inf`: no NaN anywhere, forward or backward,
    /// and the three ops agree (softmax 0 = exp(log_softmax) = exp(x - logsumexp)).
    #[test]
    fn a_lane_of_minus_infinity_gives_no_nan() {
        let inf = f64::INFINITY;
        let x: ndarray::Array2<f64> = array![[-inf, -inf, -inf], [0.0, -inf, 1.0]];
        let s = softmax(&x, Axis(1));
        assert_eq!(s.row(0), array![0.0, 0.0, 0.0]);
        assert!((s[[1, 0]] + s[[1, 2]] - 1.0).abs() < 1e-15 && s[[1, 1]] == 0.0);
        let ls = log_softmax(&x, Axis(1));
        assert!(ls.row(0).iter().all(|&v| v == -inf));
        assert!((ls[[1, 2]] - s[[1, 2]].ln()).abs() < 1e-15);
        let l = logsumexp(&x, Axis(1));
        assert_eq!(l[0], -inf);
        let g = array![[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]];
        let ds = softmax_backward(&s, &g, Axis(1));
        let dls = log_softmax_backward(&ls, &g, Axis(1));
        let dl = logsumexp_backward(&x, &l, &array![1.0, 1.0], Axis(1));
        for d in [&ds, &dls, &dl] {
            assert!(d.iter().all(|v| v.is_finite()), "{d}");
        }
        assert_eq!(ds.row(0), array![0.0, 0.0, 0.0]);
        assert_eq!(dl.row(0), array![0.0, 0.0, 0.0]);
    }

    /// A NaN entry makes its whole lane NaN, as the docs say, not a half-normalized one.
    #[test]
    fn a_nan_entry_makes_the_lane_nan() {
        let x: ndarray::Array2<f64> = array![[0.0, f64::NAN, 1.0], [0.0, 1.0, 2.0]];
        let s = softmax(&x, Axis(1));
        assert!(s.row(0).iter().all(|v| v.is_nan()), "{s}");
        assert!(s.row(1).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn softmax_family_matches_the_naive_formulas() {
        let x =
            ndarray::Array2::from_shape_fn((3, 5), |(i, j)| ((i * 5 + j) as f64 * 0.7).sin() * 3.0);
        for axis in [Axis(0), Axis(1)] {
            // The textbook definitions, fine for moderate values.
            let e = x.mapv(f64::exp);
            let total = e.sum_axis(axis).insert_axis(axis);
            let naive_softmax = &e / &total;
            let naive_lse = e.sum_axis(axis).mapv(f64::ln);
            let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * (1.0 + b.abs());
            assert!(
                softmax(&x, axis)
                    .iter()
                    .zip(&naive_softmax)
                    .all(|(&a, &b)| close(a, b))
            );
            assert!(
                log_softmax(&x, axis)
                    .iter()
                    .zip(naive_softmax.mapv(f64::ln).iter())
                    .all(|(&a, &b)| close(a, b))
            );
            assert!(
                logsumexp(&x, axis)
                    .iter()
                    .zip(&naive_lse)
                    .all(|(&a, &b)| close(a, b))
            );
        }
    }

    #[test]
    fn reductions_match_plain_loops() {
        let x = array![[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]];
        assert_eq!(sum(&x)[()], 21.0);
        assert_eq!(mean(&x)[()], 3.5);
        assert_eq!(sum_axis(&x, Axis(0)), array![5.0, 7.0, 9.0]);
        // The row-by-row path (contiguous, first axis) against ndarray's, in
        // two and three dimensions, and a transposed array through ndarray's.
        let big = ndarray::Array3::from_shape_fn((9, 4, 37), |(i, j, k)| {
            ((i * 148 + j * 37 + k) as f64).sin()
        });
        let by_rows = sum_axis(&big, Axis(0));
        let reference = big.sum_axis(Axis(0));
        assert!(
            by_rows
                .iter()
                .zip(&reference)
                .all(|(a, b)| (a - b).abs() < 1e-12)
        );
        assert_eq!(mean_axis(&big, Axis(0)), by_rows.mapv(|s| s / 9.0));
        let flat = big.into_shape_with_order((36, 37)).expect("contiguous");
        assert_eq!(sum_axis(&flat.t(), Axis(0)), flat.t().sum_axis(Axis(0)));
        assert_eq!(
            sum_axis(&ndarray::Array2::<f64>::zeros((0, 3)), Axis(0)),
            array![0.0, 0.0, 0.0]
        );
        assert_eq!(mean_axis(&x, Axis(1)), array![3.0, 4.0]);
        assert_eq!(max_axis(&x, Axis(1)), array![5.0, 6.0]);
        let y = max_axis(&x, Axis(1));
        assert_eq!(
            max_axis_backward(&x, &y, &array![1.0, 2.0], Axis(1)),
            array![[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]
        );
        assert_eq!(
            sum_axis_backward(&array![1.0, 2.0], Axis(1), x.raw_dim()),
            array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
        );
    }
}
