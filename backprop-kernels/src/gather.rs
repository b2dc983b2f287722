//! A general gather along one axis with NumPy `take_along_axis` semantics (the
//! language op `take_along_axis(x, &idx, Axis(k))`), and its scatter-add
//! backward. [`pick`](crate::pick) and [`rows`](crate::rows) are 2-D special cases.

use ndarray::{Array, ArrayRef, Axis, Dimension, Zip};

use crate::Real;
use crate::Site;

/// `out[.., j, ..] = x[.., idx[.., j, ..], ..]` along `axis`: `idx` has the rank
/// of `x`, any length `m` along `axis`, and along every other axis `x`'s length
/// or 1 (broadcast). The output is `x`'s shape with `axis` of length `m`.
pub fn take_along_axis<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    idx: &ArrayRef<usize, D>,
    axis: Axis,
    site: &Site,
) -> Array<T, D> {
    let (xs, is, k) = (x.shape(), idx.shape(), axis.index());
    if xs.len() != is.len() {
        site.shape_mismatch(xs, is, "the indices must have the rank of the input")
    }
    if k >= xs.len() {
        site.shape_mismatch(
            xs,
            is,
            &format!("axis {k} is out of range for rank {}", xs.len()),
        )
    }
    if let Some(i) = (0..xs.len()).find(|&i| i != k && is[i] != xs[i] && is[i] != 1) {
        site.shape_mismatch(
            xs,
            is,
            &format!("along axis {i} the indices' length must equal the input's or be 1"),
        )
    }
    if let Some(&bad) = idx.iter().find(|&&j| j >= xs[k]) {
        site.shape_mismatch(
            xs,
            is,
            &format!(
                "index {bad} is out of range for axis {k} of length {}",
                xs[k]
            ),
        )
    }
    let mut out_dim = x.raw_dim();
    out_dim[k] = is[k];
    let Some(idx_full) = idx.broadcast(out_dim.clone()) else {
        site.shape_mismatch(xs, is, "the indices do not broadcast to the output")
    };
    let mut out = Array::zeros(out_dim);
    Zip::from(out.lanes_mut(axis))
        .and(idx_full.lanes(axis))
        .and(x.lanes(axis))
        .for_each(|mut out, idx, x| {
            for (o, &j) in out.iter_mut().zip(idx) {
                *o = x[j];
            }
        });
    out
}

/// Derivative of [`take_along_axis`]: `g[.., j, ..]` added into
/// `[.., idx[.., j, ..], ..]` of a zero array of `shape` (the input's shape);
/// repeated indices accumulate.
pub fn take_along_axis_backward<T: Real, D: Dimension>(
    g: &ArrayRef<T, D>,
    idx: &ArrayRef<usize, D>,
    axis: Axis,
    shape: D,
) -> Array<T, D> {
    let Some(idx_full) = idx.broadcast(g.raw_dim()) else {
        Site::internal("take_along_axis_backward").shape_mismatch(
            g.shape(),
            idx.shape(),
            "the indices do not broadcast to the gradient",
        )
    };
    let mut d = Array::zeros(shape);
    Zip::from(d.lanes_mut(axis))
        .and(idx_full.lanes(axis))
        .and(g.lanes(axis))
        .for_each(|mut d, idx, g| {
            for (&j, &g) in idx.iter().zip(g) {
                d[j] += g;
            }
        });
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{pick, pick_backward, rows, rows_backward};
    use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn, array};

    const SITE: Site = Site::internal("take_along_axis");

    fn data3(shape: (usize, usize, usize), seed: usize) -> Array3<f64> {
        Array3::from_shape_fn(shape, |(i, j, l)| {
            ((i * 7 + j * 3 + l * 5 + seed) as f64 * 0.37).sin()
        })
    }

    #[test]
    fn reproduces_pick() {
        let q = Array2::from_shape_fn((4, 3), |(i, j)| ((i * 7 + j * 3) as f64 * 0.37).sin());
        let a = array![2usize, 0, 1, 2];
        let a_col = a.clone().insert_axis(Axis(1));
        assert_eq!(
            take_along_axis(&q, &a_col, Axis(1), &SITE),
            pick(&q, &a, &SITE).insert_axis(Axis(1))
        );
        let g = array![[1.0], [2.0], [3.0], [4.0]];
        assert_eq!(
            take_along_axis_backward(&g, &a_col, Axis(1), q.raw_dim()),
            pick_backward(&g.column(0), &a, q.raw_dim())
        );
    }

    #[test]
    fn reproduces_rows_by_broadcasting_the_indices() {
        let table = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 7 + j * 3) as f64 * 0.37).sin());
        let ids = array![4usize, 0, 4, 2, 1, 4];
        let ids_col = ids.clone().insert_axis(Axis(1));
        assert_eq!(
            take_along_axis(&table, &ids_col, Axis(0), &SITE),
            rows(&table, &ids, &SITE)
        );
        let g = Array2::from_shape_fn((6, 3), |(i, j)| (i * 3 + j) as f64);
        assert_eq!(
            take_along_axis_backward(&g, &ids_col, Axis(0), table.raw_dim()),
            rows_backward(&g, &ids, table.raw_dim())
        );
    }

    /// The definition, as loops.
    fn naive(x: &Array3<f64>, idx: &Array3<usize>, k: usize) -> Array3<f64> {
        let mut shape = [x.dim().0, x.dim().1, x.dim().2];
        shape[k] = idx.shape()[k];
        Array3::from_shape_fn(shape, |(a, b, c)| {
            let mut at = [a, b, c];
            let mut at_idx = at;
            for (i, v) in at_idx.iter_mut().enumerate() {
                if idx.shape()[i] == 1 {
                    *v = 0;
                }
            }
            at[k] = idx[at_idx];
            x[at]
        })
    }

    #[test]
    fn three_d_matches_the_definition_on_every_axis() {
        let x = data3((3, 4, 5), 0);
        // Also a non-contiguous view with the same values.
        let x_t = x
            .clone()
            .permuted_axes([2, 1, 0])
            .as_standard_layout()
            .into_owned();
        let x_view = x_t.view().permuted_axes([2, 1, 0]);
        for k in 0..3 {
            let len = x.shape()[k];
            let mut full = [3, 4, 5];
            full[k] = 6;
            let mut shapes = vec![full];
            for i in (0..3).filter(|&i| i != k) {
                let mut s = full;
                s[i] = 1;
                shapes.push(s);
            }
            for shape in shapes {
                let idx = Array3::from_shape_fn(shape, |(a, b, c)| (a * 5 + b * 3 + c * 2) % len);
                let want = naive(&x, &idx, k);
                assert_eq!(take_along_axis(&x, &idx, Axis(k), &SITE), want, "{shape:?}");
                assert_eq!(take_along_axis(&x_view, &idx, Axis(k), &SITE), want);
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences_with_repeated_indices() {
        let x = data3((3, 4, 2), 1);
        // Five indices into an axis of length 4: some repeat; broadcast along axis 2.
        let idx = Array3::from_shape_fn((3, 5, 1), |(a, b, _)| (a + b * 3) % 4);
        let g = data3((3, 5, 2), 2);
        let loss = |x: &Array3<f64>| (take_along_axis(x, &idx, Axis(1), &SITE) * &g).sum();
        let eps = 1e-6;
        let mut numeric = Array3::zeros(x.raw_dim());
        for (at, d) in numeric.indexed_iter_mut() {
            let (mut hi, mut lo) = (x.clone(), x.clone());
            hi[at] += eps;
            lo[at] -= eps;
            *d = (loss(&hi) - loss(&lo)) / (2.0 * eps);
        }
        let analytic = take_along_axis_backward(&g, &idx, Axis(1), x.raw_dim());
        let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = (&analytic - &numeric)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            scale > 0.0 && err / scale < 1e-7,
            "relative error {}",
            err / scale
        );
        // Row 0 takes column 0 twice (b = 0 and b = 4): both gradients land there.
        assert_eq!(analytic[[0, 0, 1]], g[[0, 0, 1]] + g[[0, 4, 1]]);
    }

    fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).expect_err("must panic");
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn bad_indices_name_both_shapes() {
        let x = Array2::<f64>::zeros((2, 3));
        let msg = panic_text(|| {
            take_along_axis(&x, &array![[0usize], [3]], Axis(1), &SITE);
        });
        assert!(msg.contains("[2, 3]") && msg.contains("[2, 1]"), "{msg}");
        assert!(
            msg.contains("index 3 is out of range for axis 1 of length 3"),
            "{msg}"
        );

        let msg = panic_text(|| {
            take_along_axis(&x, &Array2::zeros((3, 1)), Axis(1), &SITE);
        });
        assert!(msg.contains("[2, 3]") && msg.contains("[3, 1]"), "{msg}");
        assert!(msg.contains("along axis 0"), "{msg}");

        let msg = panic_text(|| {
            take_along_axis(&x, &Array2::zeros((2, 1)), Axis(2), &SITE);
        });
        assert!(msg.contains("axis 2 is out of range for rank 2"), "{msg}");

        let msg = panic_text(|| {
            let x = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
            let idx = Array1::<usize>::zeros(2).into_dyn();
            take_along_axis(&x, &idx, Axis(0), &SITE);
        });
        assert!(msg.contains("[2, 3]") && msg.contains("[2]"), "{msg}");
        assert!(msg.contains("rank"), "{msg}");
    }
}
