//! What fused loops call besides the per-element functions of [`crate::elem`]:
//! a loop that ends in a reduction computes its elements a block of rows at a
//! time into a small buffer, and adds each block into the result, so that no
//! array of the loop's full shape is ever made.

use ndarray::{Array, ArrayRef, ArrayView, Axis, DimMax, Dimension, Ix1, Ix2, RemoveAxis};

use crate::broadcast::{Broadcast, broadcast_shape, dim_of};
use crate::{Real, Site};

/// About how many elements one block of a reducing loop holds: small enough to
/// stay in the first-level cache, large enough for the per-element loop to run
/// at full speed.
const BLOCK_ELEMENTS: usize = 8 * 1024;

/// How many rows (along axis 0) of a loop over `shape` one block holds.
pub fn block_rows<D: Dimension>(shape: &D) -> usize {
    let row: usize = shape.slice().iter().skip(1).product();
    (BLOCK_ELEMENTS / row.max(1)).clamp(1, shape.slice().first().copied().unwrap_or(1).max(1))
}

/// The buffer a reducing loop over `shape` computes one block into.
pub fn block_buffer<T: Real, D: Dimension>(shape: &D) -> Array<T, D> {
    let mut block = shape.clone();
    if block.ndim() > 0 {
        block[0] = block_rows(shape);
    }
    Array::zeros(block)
}

/// The row ranges `(start, end)` of the blocks of a loop over `shape`.
pub fn blocks<D: Dimension>(shape: &D) -> impl Iterator<Item = (usize, usize)> {
    let rows = shape.slice().first().copied().unwrap_or(1);
    let step = block_rows(shape);
    (0..rows)
        .step_by(step)
        .map(move |start| (start, (start + step).min(rows)))
}

/// Adds `part` into `acc`, summing away the leading axes `part` has beyond
/// `acc`'s and the axes where `acc` has length 1 (as [`crate::sum_to`] does).
pub fn accumulate_to<T: Real, D: Dimension, E: Dimension>(
    acc: &mut ArrayRef<T, E>,
    part: &ArrayRef<T, D>,
) {
    if acc.ndim() == 0 {
        let total = part.sum();
        acc.iter_mut().for_each(|a| *a += total);
        return;
    }
    let lead = part.ndim().saturating_sub(acc.ndim());
    if part.ndim() > acc.ndim() && part.shape()[lead..] == *acc.shape() {
        // The common case (a bias gradient, a column mean): add row by row.
        let rows: usize = part.shape()[..lead].iter().product();
        let width = acc.len();
        if let (Ok(flat), Some(acc)) = (
            part.view().into_shape_with_order(Ix2(rows, width)),
            acc.as_slice_mut(),
        ) {
            for row in flat.rows() {
                let mut acc = ndarray::ArrayViewMut::from(&mut *acc);
                acc += &row;
            }
            return;
        }
    }
    let summed = crate::sum_to(part, acc.raw_dim());
    ndarray::Zip::from(acc)
        .and(&summed)
        .for_each(|a, &s| *a += s);
}

/// `acc` divided by `n`: a mean from a sum.
pub fn divide_by<T: Real, D: Dimension>(acc: &mut ArrayRef<T, D>, n: usize) {
    let n = T::from_usize(n).unwrap_or_else(T::nan);
    acc.mapv_inplace(|v| v / n);
}

/// The shape of a loop's result reduced along axis 0.
pub fn without_axis0<D: RemoveAxis>(shape: &D) -> D::Smaller {
    shape.remove_axis(Axis(0))
}

/// The shape of a 1-D result: a helper so that generated code names no `Ix1`.
pub fn dim1(n: usize) -> Ix1 {
    Ix1(n)
}

/// The shape two operands of a broadcasting op take together, for a fused loop
/// that checks, before it runs, what the op's own kernel would check.
///
/// # Panics
/// With the op's shape error (naming the op, the expression and both shapes) if
/// the shapes cannot be broadcast together.
pub fn broadcast_dims<D1, D2>(a: &D1, b: &D2, site: &Site) -> Broadcast<D1, D2>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    match broadcast_shape(a.slice(), b.slice()) {
        Some(shape) => dim_of(&shape),
        None => site.shape_mismatch(
            a.slice(),
            b.slice(),
            "the shapes cannot be broadcast together",
        ),
    }
}

/// The shape a mask and the values of `where_` take together (see [`broadcast_dims`]).
///
/// # Panics
/// With `where_`'s shape error if the mask cannot be broadcast to the values.
pub fn broadcast_mask_dims<DM, D>(mask: &DM, values: &D, site: &Site) -> Broadcast<DM, D>
where
    DM: Dimension + DimMax<D>,
    D: Dimension,
{
    match broadcast_shape(mask.slice(), values.slice()) {
        Some(shape) => dim_of(&shape),
        None => site.shape_mismatch(
            mask.slice(),
            values.slice(),
            "the mask cannot be broadcast to the values",
        ),
    }
}

/// `a` as a view of `shape`, stretched by broadcasting: an operand of a fused loop
/// whose shapes were checked before it (with [`broadcast_dims`]).
///
/// # Panics
/// If `a` does not broadcast to `shape`, which the checks before the loop rule out.
pub fn stretch<'a, A, D: Dimension, E: Dimension>(
    a: &'a ArrayRef<A, D>,
    shape: &E,
) -> ArrayView<'a, A, E> {
    a.broadcast(shape.clone()).unwrap_or_else(|| {
        Site::internal("fused loop").shape_mismatch(
            a.shape(),
            shape.slice(),
            "an operand does not broadcast to the loop's shape",
        )
    })
}

#[cfg(test)]
mod tests {
    use ndarray::{Array0, Array1, Array2, Array3, array};

    use super::*;

    #[test]
    fn blocks_cover_every_row_once() {
        let shape = ndarray::Dim([10_000, 3]);
        let rows: usize = blocks(&shape).map(|(s, e)| e - s).sum();
        assert_eq!(rows, 10_000);
        assert!(block_rows(&shape) * 3 <= BLOCK_ELEMENTS);
        assert_eq!(blocks(&ndarray::Dim([0, 4])).count(), 0);
    }

    #[test]
    fn accumulates_like_sum_to() {
        let part = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64);
        let mut row = Array1::zeros(4);
        accumulate_to(&mut row, &part);
        assert_eq!(row, crate::sum_to(&part, ndarray::Ix1(4)));
        let mut col = Array2::zeros((3, 1));
        accumulate_to(&mut col, &part);
        assert_eq!(col, crate::sum_to(&part, ndarray::Ix2(3, 1)));
        let mut total = Array0::zeros(());
        accumulate_to(&mut total, &part);
        accumulate_to(&mut total, &part);
        assert_eq!(total[()], 2.0 * part.sum());
        // A transposed (not contiguous) part takes the general path.
        let m = array![[1.0, 2.0], [3.0, 4.0]];
        let mut r = Array1::zeros(2);
        accumulate_to(&mut r, &m.t());
        assert_eq!(r, array![3.0, 7.0]);
    }
}
