//! Indexing with scatter-add backward: one column per row (`pick`, the DQN
//! `Q[arange(N), a]`), row lookup (`rows`, an embedding), slicing along an axis,
//! and concatenation.

use ndarray::{
    Array, Array1, Array2, ArrayRef, ArrayRef1, ArrayRef2, ArrayView, Axis, Dimension, RemoveAxis,
    Slice,
};

use crate::Real;
use crate::Site;

/// `q[i, idx[i]]` for every row `i`: `[n, m]` and `[n]` indices give `[n]`.
pub fn pick<T: Real>(q: &ArrayRef2<T>, idx: &ArrayRef1<usize>, site: &Site) -> Array1<T> {
    if q.nrows() != idx.len() {
        site.shape_mismatch(q.shape(), idx.shape(), "pick needs one index per row")
    }
    if let Some(&bad) = idx.iter().find(|&&j| j >= q.ncols()) {
        site.shape_mismatch(
            q.shape(),
            &[bad],
            "an index is out of range for the columns",
        )
    }
    Array1::from_iter(idx.iter().enumerate().map(|(i, &j)| q[[i, j]]))
}

/// Derivative of [`pick`]: `g[i]` scattered to `[i, idx[i]]` of a zero array of `shape`.
pub fn pick_backward<T: Real>(
    g: &ArrayRef1<T>,
    idx: &ArrayRef1<usize>,
    shape: ndarray::Ix2,
) -> Array2<T> {
    let mut d = Array2::zeros(shape);
    for (i, (&j, &g)) in idx.iter().zip(g).enumerate() {
        d[[i, j]] += g;
    }
    d
}

/// Rows of `table` selected by `idx` (an embedding lookup): `[v, d]` and `[n]` give `[n, d]`.
pub fn rows<T: Real>(table: &ArrayRef2<T>, idx: &ArrayRef1<usize>, site: &Site) -> Array2<T> {
    if let Some(&bad) = idx.iter().find(|&&j| j >= table.nrows()) {
        site.shape_mismatch(
            table.shape(),
            &[bad],
            "an index is out of range for the rows",
        )
    }
    table.select(Axis(0), idx.as_slice().map_or(&idx.to_vec()[..], |s| s))
}

/// Derivative of [`rows`]: each row of `g` added into the row of a zero `table`
/// it came from (repeated indices accumulate).
pub fn rows_backward<T: Real>(
    g: &ArrayRef2<T>,
    idx: &ArrayRef1<usize>,
    shape: ndarray::Ix2,
) -> Array2<T> {
    let mut d = Array2::zeros(shape);
    for (&j, row) in idx.iter().zip(g.rows()) {
        let mut target = d.row_mut(j);
        target += &row;
    }
    d
}

/// `x[.., start..end, ..]` along `axis`, copied.
pub fn slice_axis<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    axis: Axis,
    start: usize,
    end: usize,
    site: &Site,
) -> Array<T, D> {
    if axis.index() >= x.ndim() || start > end || end > x.len_of(axis) {
        site.shape_mismatch(
            x.shape(),
            &[start, end],
            "the range is out of bounds along the axis",
        )
    }
    x.slice_axis(axis, Slice::from(start..end)).to_owned()
}

/// Derivative of [`slice_axis`]: `g` placed at `start` along `axis` in a zero array of `shape`.
pub fn slice_axis_backward<T: Real, D: Dimension>(
    g: &ArrayRef<T, D>,
    axis: Axis,
    start: usize,
    shape: D,
) -> Array<T, D> {
    let mut d = Array::zeros(shape);
    let end = start + g.len_of(axis);
    d.slice_axis_mut(axis, Slice::from(start..end)).assign(g);
    d
}

/// Concatenation of `parts` along `axis`.
pub fn concatenate<T: Real, D: RemoveAxis>(
    axis: Axis,
    parts: &[&ArrayRef<T, D>],
    site: &Site,
) -> Array<T, D> {
    let views: Vec<ArrayView<'_, T, D>> = parts.iter().map(|p| p.view()).collect();
    match ndarray::concatenate(axis, &views) {
        Ok(a) => a,
        Err(_) => {
            let first = parts
                .first()
                .map(|p| p.shape().to_vec())
                .unwrap_or_default();
            let bad = parts
                .iter()
                .find(|p| p.ndim() != first.len() || !same_but_axis(p.shape(), &first, axis));
            site.shape_mismatch(
                &first,
                bad.map_or(&[][..], |p| p.shape()),
                "parts must agree on every other axis",
            )
        }
    }
}

fn same_but_axis(a: &[usize], b: &[usize], axis: Axis) -> bool {
    a.iter()
        .zip(b)
        .enumerate()
        .all(|(i, (x, y))| i == axis.index() || x == y)
}

/// Derivative of [`concatenate`] for one part: the slice of `g` along `axis`
/// that part `k` filled, given every part's length along `axis`.
pub fn concatenate_backward<T: Real, D: Dimension>(
    g: &ArrayRef<T, D>,
    axis: Axis,
    lens: &[usize],
    k: usize,
) -> Array<T, D> {
    let start: usize = lens[..k].iter().sum();
    g.slice_axis(axis, Slice::from(start..start + lens[k]))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Ix2, array};

    const SITE: Site = Site::internal("index");

    #[test]
    fn pick_and_its_scatter() {
        let q = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let a = array![2usize, 0];
        assert_eq!(pick(&q, &a, &SITE), array![3.0, 4.0]);
        assert_eq!(
            pick_backward(&array![1.0, 2.0], &a, Ix2(2, 3)),
            array![[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]
        );
    }

    #[test]
    fn rows_accumulate_repeated_indices() {
        let t = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let idx = array![2usize, 0, 2];
        assert_eq!(
            rows(&t, &idx, &SITE),
            array![[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]]
        );
        let d = rows_backward(&array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], &idx, Ix2(3, 2));
        assert_eq!(d, array![[2.0, 2.0], [0.0, 0.0], [4.0, 4.0]]);
    }

    #[test]
    fn slice_and_concatenate_round_trip() {
        let x = array![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]];
        let a = slice_axis(&x, Axis(1), 0, 1, &SITE);
        let b = slice_axis(&x, Axis(1), 1, 4, &SITE);
        assert_eq!(concatenate(Axis(1), &[&a, &b], &SITE), x);
        assert_eq!(concatenate_backward(&x, Axis(1), &[1, 3], 1), b);
        assert_eq!(
            slice_axis_backward(&a, Axis(1), 0, x.raw_dim()),
            array![[1.0, 0.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]]
        );
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn pick_rejects_out_of_range_action() {
        pick(&array![[1.0, 2.0]], &array![5usize], &SITE);
    }
}
