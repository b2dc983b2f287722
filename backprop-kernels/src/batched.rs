//! Batched matrix products (the language op `matmul`): one 2-D product per
//! batch along axis 0, either with a matrix per batch ([`matmul_batched`]) or
//! with one weight shared by every batch ([`matmul_shared`]). As for a single
//! product, `C = A B` has `dA = G B^T` and `dB = A^T G`, per batch; a shared
//! weight sums its per-batch contributions.

use ndarray::{
    Array2, Array3, ArrayRef2, ArrayRef3, ArrayView2, ArrayViewMut2, Axis, linalg::general_mat_mul,
};

use crate::Real;
use crate::Site;

/// `a` as one `[bt * n, k]` matrix, if it is in standard layout.
fn flat<T: Real>(a: &ArrayRef3<T>) -> Option<ArrayView2<'_, T>> {
    let (bt, n, k) = a.dim();
    a.view().into_shape_with_order((bt * n, k)).ok()
}

/// `out` as one `[bt * n, m]` matrix, if it is in standard layout.
fn flat_mut<T: Real>(out: &mut Array3<T>) -> Option<ArrayViewMut2<'_, T>> {
    let (bt, n, m) = out.dim();
    out.view_mut().into_shape_with_order((bt * n, m)).ok()
}

/// `a_b w` for every batch `b`: `[bt, n, k] x [k, m] -> [bt, n, m]`, as one
/// `[bt * n, k] x [k, m]` product when `a` is in standard layout.
fn times_shared<T: Real>(a: &ArrayRef3<T>, w: &ArrayRef2<T>) -> Array3<T> {
    let (bt, n, _) = a.dim();
    let mut out = Array3::zeros((bt, n, w.ncols()));
    if let Some(a_flat) = flat(a)
        && let Some(mut out_flat) = flat_mut(&mut out)
    {
        general_mat_mul(T::one(), &a_flat, w, T::zero(), &mut out_flat);
    } else {
        for (a_b, mut out_b) in a.outer_iter().zip(out.outer_iter_mut()) {
            general_mat_mul(T::one(), &a_b, w, T::zero(), &mut out_b);
        }
    }
    out
}

/// Batched matrix product, per batch `C_b = A_b B_b`: `[bt, n, k] x [bt, k, m] -> [bt, n, m]`.
pub fn matmul_batched<T: Real>(a: &ArrayRef3<T>, b: &ArrayRef3<T>, site: &Site) -> Array3<T> {
    let ((bt, n, k), (bt2, k2, m)) = (a.dim(), b.dim());
    if bt != bt2 {
        site.shape_mismatch(a.shape(), b.shape(), "batch sizes (axis 0) differ")
    }
    if k != k2 {
        site.shape_mismatch(
            a.shape(),
            b.shape(),
            "inner dimensions differ (axis 2 of the left, axis 1 of the right)",
        )
    }
    let mut out = Array3::zeros((bt, n, m));
    for ((a_b, b_b), mut out_b) in a.outer_iter().zip(b.outer_iter()).zip(out.outer_iter_mut()) {
        general_mat_mul(T::one(), &a_b, &b_b, T::zero(), &mut out_b);
    }
    out
}

/// Derivative of [`matmul_batched`] with respect to `a`: per batch `G_b B_b^T`.
pub fn matmul_batched_backward_a<T: Real>(g: &ArrayRef3<T>, b: &ArrayRef3<T>) -> Array3<T> {
    let (bt, n, _) = g.dim();
    let mut out = Array3::zeros((bt, n, b.len_of(Axis(1))));
    for ((g_b, b_b), mut out_b) in g.outer_iter().zip(b.outer_iter()).zip(out.outer_iter_mut()) {
        general_mat_mul(T::one(), &g_b, &b_b.t(), T::zero(), &mut out_b);
    }
    out
}

/// Derivative of [`matmul_batched`] with respect to `b`: per batch `A_b^T G_b`.
pub fn matmul_batched_backward_b<T: Real>(a: &ArrayRef3<T>, g: &ArrayRef3<T>) -> Array3<T> {
    let (bt, _, k) = a.dim();
    let mut out = Array3::zeros((bt, k, g.len_of(Axis(2))));
    for ((a_b, g_b), mut out_b) in a.outer_iter().zip(g.outer_iter()).zip(out.outer_iter_mut()) {
        general_mat_mul(T::one(), &a_b.t(), &g_b, T::zero(), &mut out_b);
    }
    out
}

/// Batched product with one shared weight, per batch `C_b = A_b W`:
/// `[bt, n, k] x [k, m] -> [bt, n, m]`.
pub fn matmul_shared<T: Real>(a: &ArrayRef3<T>, w: &ArrayRef2<T>, site: &Site) -> Array3<T> {
    if a.len_of(Axis(2)) != w.nrows() {
        site.shape_mismatch(
            a.shape(),
            w.shape(),
            "inner dimensions differ (axis 2 of the left, axis 0 of the weight)",
        )
    }
    times_shared(a, w)
}

/// Derivative of [`matmul_shared`] with respect to `a`: per batch `G_b W^T`.
pub fn matmul_shared_backward_a<T: Real>(g: &ArrayRef3<T>, w: &ArrayRef2<T>) -> Array3<T> {
    times_shared(g, &w.t())
}

/// Derivative of [`matmul_shared`] with respect to `w`: `sum_b A_b^T G_b`
/// (one `[bt * n, k]^T x [bt * n, m]` product when both are in standard layout).
pub fn matmul_shared_backward_w<T: Real>(a: &ArrayRef3<T>, g: &ArrayRef3<T>) -> Array2<T> {
    if let (Some(a_flat), Some(g_flat)) = (flat(a), flat(g)) {
        return a_flat.t().dot(&g_flat);
    }
    let mut out = Array2::zeros((a.len_of(Axis(2)), g.len_of(Axis(2))));
    for (a_b, g_b) in a.outer_iter().zip(g.outer_iter()) {
        general_mat_mul(T::one(), &a_b.t(), &g_b, T::one(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, Dimension, Slice};

    const SITE: Site = Site::internal("matmul");

    fn data3(shape: (usize, usize, usize), seed: usize) -> Array3<f64> {
        Array3::from_shape_fn(shape, |(b, i, j)| {
            ((b * 11 + i * 7 + j * 3 + seed) as f64 * 0.37).sin()
        })
    }

    fn data2(shape: (usize, usize), seed: usize) -> Array2<f64> {
        Array2::from_shape_fn(shape, |(i, j)| ((i * 7 + j * 3 + seed) as f64 * 0.37).sin())
    }

    /// The definition, as loops: `out[b, i, j] = sum_l a[b, i, l] w(b)[l, j]`.
    fn naive(a: &ArrayRef3<f64>, w: impl Fn(usize, usize, usize) -> f64, m: usize) -> Array3<f64> {
        let (bt, n, k) = a.dim();
        Array3::from_shape_fn((bt, n, m), |(b, i, j)| {
            (0..k).map(|l| a[[b, i, l]] * w(b, l, j)).sum()
        })
    }

    fn assert_close<D: Dimension>(got: &Array<f64, D>, want: &Array<f64, D>) {
        assert_eq!(got.shape(), want.shape());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got} != {want}");
        }
    }

    /// Central finite differences of `f` at `x`.
    fn finite_diff<D: Dimension>(
        x: &Array<f64, D>,
        f: impl Fn(&Array<f64, D>) -> f64,
    ) -> Array<f64, D> {
        let eps = 1e-6;
        let mut grad = Array::zeros(x.raw_dim());
        for (k, d) in grad.iter_mut().enumerate() {
            let (mut hi, mut lo) = (x.clone(), x.clone());
            *hi.iter_mut().nth(k).expect("in range") += eps;
            *lo.iter_mut().nth(k).expect("in range") -= eps;
            *d = (f(&hi) - f(&lo)) / (2.0 * eps);
        }
        grad
    }

    fn assert_rel_close<D: Dimension>(analytic: &Array<f64, D>, numeric: &Array<f64, D>) {
        assert_eq!(analytic.shape(), numeric.shape());
        let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = analytic
            .iter()
            .zip(numeric)
            .fold(0.0f64, |m, (a, n)| m.max((a - n).abs()));
        assert!(
            scale > 0.0 && err / scale < 1e-7,
            "relative error {}",
            err / scale
        );
    }

    #[test]
    fn batched_matches_the_definition() {
        let a = data3((3, 4, 5), 0);
        let b = data3((3, 5, 2), 1);
        let want = naive(&a, |bb, l, j| b[[bb, l, j]], 2);
        assert_close(&matmul_batched(&a, &b, &SITE), &want);

        // Non-contiguous operands: a transposed view and a stepped slice.
        let a_t = a
            .clone()
            .permuted_axes([1, 0, 2])
            .as_standard_layout()
            .into_owned();
        let a_view = a_t.view().permuted_axes([1, 0, 2]);
        let b_big = Array3::from_shape_fn((3, 10, 2), |(bb, l, j)| {
            if l % 2 == 0 {
                b[[bb, l / 2, j]]
            } else {
                f64::NAN
            }
        });
        let b_view = b_big.slice_axis(Axis(1), Slice::new(0, None, 2));
        assert!(!a_view.is_standard_layout() && !b_view.is_standard_layout());
        assert_close(&matmul_batched(&a_view, &b_view, &SITE), &want);
    }

    #[test]
    fn shared_matches_the_definition() {
        let a = data3((3, 4, 5), 2);
        let w = data2((5, 6), 3);
        let want = naive(&a, |_, l, j| w[[l, j]], 6);
        assert_close(&matmul_shared(&a, &w, &SITE), &want);

        let a_t = a
            .clone()
            .permuted_axes([2, 0, 1])
            .as_standard_layout()
            .into_owned();
        let a_view = a_t.view().permuted_axes([1, 2, 0]);
        let w_t = w.t().to_owned();
        assert!(!a_view.is_standard_layout());
        assert_close(&matmul_shared(&a_view, &w_t.t(), &SITE), &want);
    }

    #[test]
    fn empty_batches_and_inner_sizes() {
        let a = Array3::<f64>::zeros((0, 2, 3));
        assert_eq!(
            matmul_batched(&a, &Array3::zeros((0, 3, 4)), &SITE).dim(),
            (0, 2, 4)
        );
        assert_eq!(
            matmul_shared(&a, &Array2::zeros((3, 4)), &SITE).dim(),
            (0, 2, 4)
        );
        let a = Array3::<f64>::ones((2, 2, 0));
        let c = matmul_shared(&a, &Array2::zeros((0, 3)), &SITE);
        assert_eq!(c, Array3::zeros((2, 2, 3)));
    }

    #[test]
    fn batched_backward_matches_finite_differences() {
        let a = data3((2, 3, 4), 4);
        let b = data3((2, 4, 5), 5);
        let g = data3((2, 3, 5), 6);
        let loss = |a: &Array3<f64>, b: &Array3<f64>| (matmul_batched(a, b, &SITE) * &g).sum();
        assert_rel_close(
            &matmul_batched_backward_a(&g, &b),
            &finite_diff(&a, |a| loss(a, &b)),
        );
        assert_rel_close(
            &matmul_batched_backward_b(&a, &g),
            &finite_diff(&b, |b| loss(&a, b)),
        );
    }

    #[test]
    fn shared_backward_matches_finite_differences() {
        let a = data3((3, 2, 4), 7);
        let w = data2((4, 5), 8);
        let g = data3((3, 2, 5), 9);
        let loss = |a: &Array3<f64>, w: &Array2<f64>| (matmul_shared(a, w, &SITE) * &g).sum();
        let d_a = finite_diff(&a, |a| loss(a, &w));
        let d_w = finite_diff(&w, |w| loss(&a, w));
        assert_rel_close(&matmul_shared_backward_a(&g, &w), &d_a);
        assert_rel_close(&matmul_shared_backward_w(&a, &g), &d_w);

        // The per-batch paths (non-contiguous operands) give the same gradients.
        let a_view = a.slice_axis(Axis(1), Slice::new(0, None, -1));
        let g_view = g.slice_axis(Axis(1), Slice::new(0, None, -1));
        let w_t = w.t().to_owned();
        let d_a_flat = matmul_shared_backward_a(&g, &w);
        assert_close(
            &matmul_shared_backward_a(&g_view, &w_t.t()),
            &d_a_flat
                .slice_axis(Axis(1), Slice::new(0, None, -1))
                .to_owned(),
        );
        assert_rel_close(&matmul_shared_backward_w(&a_view, &g_view), &d_w);
    }

    fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).expect_err("must panic");
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn shape_mismatches_name_both_shapes() {
        let msg = panic_text(|| {
            matmul_batched(
                &Array3::<f64>::zeros((2, 3, 4)),
                &Array3::zeros((3, 4, 5)),
                &SITE,
            );
        });
        assert!(
            msg.contains("`matmul`") && msg.contains("[2, 3, 4]") && msg.contains("[3, 4, 5]"),
            "{msg}"
        );
        assert!(msg.contains("batch sizes"), "{msg}");

        let msg = panic_text(|| {
            matmul_batched(
                &Array3::<f64>::zeros((2, 3, 4)),
                &Array3::zeros((2, 3, 5)),
                &SITE,
            );
        });
        assert!(
            msg.contains("[2, 3, 4]") && msg.contains("[2, 3, 5]"),
            "{msg}"
        );
        assert!(msg.contains("inner dimensions differ"), "{msg}");

        let msg = panic_text(|| {
            matmul_shared(
                &Array3::<f64>::zeros((2, 3, 4)),
                &Array2::zeros((3, 5)),
                &SITE,
            );
        });
        assert!(msg.contains("[2, 3, 4]") && msg.contains("[3, 5]"), "{msg}");
        assert!(msg.contains("inner dimensions differ"), "{msg}");
    }
}
