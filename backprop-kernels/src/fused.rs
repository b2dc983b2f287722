//! What fused loops call besides the per-element functions of [`crate::elem`]:
//! a loop that ends in a reduction computes its elements a block of rows at a
//! time into a small buffer, and adds each block into the result, so that no
//! array of the loop's full shape is ever made.

use ndarray::{Array, ArrayRef, ArrayView, Axis, Dimension, Ix2, RemoveAxis, Zip};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::broadcast::{broadcast_shape, dim_of};
use crate::{Real, Site, math};

/// About how many elements one block of a reducing loop holds: small enough to
/// stay in the first-level cache, large enough for the per-element loop to run
/// at full speed.
const BLOCK_ELEMENTS: usize = 8 * 1024;

/// The fewest elements a loop must have to be split over threads: below it,
/// handing out the work costs more than it saves (measured on W2 and W4).
const PARALLEL_ELEMENTS: usize = 1 << 16;

/// The threads fused loops may use; 0 for as many as rayon's pool has.
static LOOP_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads the fused loops of generated code split big loops
/// over (on rayon's pool): 1 runs everything on the calling thread, 0 (the
/// default) uses every thread of rayon's pool (one per core, or
/// `RAYON_NUM_THREADS`). Results are the same bits whatever the setting: each
/// loop is split so that no sum depends on it. Matrix products stay on one
/// thread.
pub fn set_loop_threads(n: usize) {
    LOOP_THREADS.store(n, Ordering::Relaxed);
}

/// How many threads the fused loops use (see [`set_loop_threads`]).
pub fn loop_threads() -> usize {
    match LOOP_THREADS.load(Ordering::Relaxed) {
        0 => rayon::current_num_threads(),
        n => n,
    }
}

/// Whether a loop of `len` elements is split over threads: when there are
/// several and the loop is big.
fn parallel(len: usize) -> bool {
    len >= PARALLEL_ELEMENTS && loop_threads() > 1
}

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

/// The loop of a fused reduction: `compute(rows, part)` writes the elements of
/// the rows `rows` of the loop's shape into `part` (a small buffer, a block of
/// rows at a time), and each block is added into `acc` with [`accumulate_to`].
#[inline(always)]
pub fn reduce_blocks<T: Real, D: Dimension, E: Dimension>(
    acc: &mut ArrayRef<T, E>,
    shape: &D,
    mut compute: impl FnMut(ndarray::Slice, &mut ArrayRef<T, D>),
) {
    let mut block = block_buffer::<T, D>(shape);
    for (start, end) in blocks(shape) {
        let mut part = block.slice_axis_mut(Axis(0), ndarray::Slice::from(0..end - start));
        compute(ndarray::Slice::from(start..end), &mut part);
        accumulate_to(acc, &part);
    }
}

/// [`reduce_blocks`] for a loop that does much work per element (a
/// transcendental function), split over [`loop_threads`] threads when it is big.
/// Each block's sum is a partial of its own, added in block order, so the result
/// is the same bits on one thread or many; not when the result is as big as a
/// block (a sum over few long rows), where the partials would cost as much as
/// the loop, which then runs as [`reduce_blocks`].
#[inline(always)]
pub fn par_reduce_blocks<T: Real, D: Dimension, E: Dimension>(
    acc: &mut ArrayRef<T, E>,
    shape: &D,
    compute: impl Fn(ndarray::Slice, &mut ArrayRef<T, D>) + Sync,
) {
    if acc.len() * 8 > BLOCK_ELEMENTS {
        return reduce_blocks(acc, shape, compute);
    }
    let ranges: Vec<(usize, usize)> = blocks(shape).collect();
    let acc_dim = acc.raw_dim();
    let block_sum = |block: &mut Array<T, D>, (start, end): (usize, usize)| {
        let mut part = block.slice_axis_mut(Axis(0), ndarray::Slice::from(0..end - start));
        compute(ndarray::Slice::from(start..end), &mut part);
        let mut partial = Array::zeros(acc_dim.clone());
        accumulate_to(&mut partial, &part);
        partial
    };
    if ranges.len() > 1 && parallel(shape.size()) {
        let partials: Vec<Array<T, E>> = ranges
            .par_iter()
            .map_init(
                || block_buffer::<T, D>(shape),
                |block, &r| block_sum(block, r),
            )
            .collect();
        partials.iter().for_each(|p| *acc += &**p);
    } else {
        let mut block = block_buffer::<T, D>(shape);
        for r in ranges {
            *acc += &*block_sum(&mut block, r);
        }
    }
}

/// Adds each row of `rows` (contiguous, rows of `acc.len()` elements) into
/// `acc`, in row order, under AVX2 dispatch: a bias gradient or a column sum.
#[inline(always)]
fn add_rows<T: Real>(acc: &mut [T], rows: &[T]) {
    if acc.is_empty() {
        return;
    }
    math::dispatch(
        #[inline(always)]
        move || {
            for row in rows.chunks_exact(acc.len()) {
                add_slice(acc, row);
            }
        },
    );
}

/// `acc[i] += row[i]`: a function of its slices, so that it vectorizes.
#[inline(always)]
fn add_slice<T: Real>(acc: &mut [T], row: &[T]) {
    let n = acc.len();
    let row = &row[..n];
    for i in 0..n {
        acc[i] += row[i];
    }
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
        if let (Some(part), Some(acc)) = (part.as_slice(), acc.as_slice_mut()) {
            add_rows(acc, part);
            return;
        }
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

/// `v` divided by the length of axis 0 of `shape`: one element of the
/// derivative of a mean along axis 0.
#[inline(always)]
pub fn over_len0<T: Real, D: Dimension>(v: T, shape: &D) -> T {
    v / T::from_usize(shape.slice()[0]).unwrap_or_else(T::nan)
}

/// The shape arrays of `shapes` take together by broadcasting: the saved shape
/// of a value the backward reads only for its shape, computed from the shapes it
/// was broadcast from (so that the value itself can be fused away).
///
/// # Panics
/// If the shapes do not broadcast together, which the forward's own ops ruled out.
pub fn broadcast_shape_of<E: Dimension>(shapes: &[&[usize]]) -> E {
    let shape = shapes
        .iter()
        .try_fold(Vec::new(), |acc, s| broadcast_shape(&acc, s));
    match shape {
        Some(shape) if shape.len() == E::NDIM.unwrap_or(shape.len()) => dim_of(&shape),
        _ => Site::internal("shape").shape_mismatch(
            shapes.first().copied().unwrap_or_default(),
            shapes.last().copied().unwrap_or_default(),
            "saved shapes that do not broadcast together",
        ),
    }
}

/// How many elements an array of `shape` has.
pub fn elements<D: Dimension>(shape: &D) -> usize {
    shape.size()
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

/// `a` as a view of `shape`, stretched by broadcasting: an operand of a fused loop
/// whose shapes were checked before it (with [`broadcast_dims`](crate::broadcast_dims)).
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

/// The loops of fused code: `zip_mapN(a, b, .., f)` is
/// `Zip::from(a).and(b)...map_collect(|&a, &b, ..| f(a, b, ..))`, and
/// `zip_fillN(out, a, .., f)` writes `f` of each element into `out`. Where every
/// operand is a contiguous array of one shape (the common case), the loop runs
/// over slices, which the compiler vectorizes; `zip_fill` (the blocks of
/// reducing loops) runs it inside [`math::dispatch`], so that `f` (a closure
/// marked `#[inline(always)]`) is compiled for AVX2 where the CPU has it. A
/// loop whose operands are contiguous along their rows only (a value per
/// column stretched over a matrix) runs the same slice loop row by row, each
/// row dispatched; other layouts (a transposed operand, a stretched column,
/// short rows) run the `Zip`.
macro_rules! zip_loops {
    ($($map:ident $par_map:ident $map_on:ident $fill:ident $into:ident $par_into:ident $into_on:ident $slices:ident $update:ident $rows:ident ($a0:ident: $A0:ident $(, $a:ident: $A:ident)*);)*) => {$(
        #[doc = concat!("A fused loop over ", stringify!($a0 $(, $a)*), ", collecting `f` of each element.")]
        #[inline(always)]
        pub fn $map<$A0: Copy + Sync, $($A: Copy + Sync,)* R: Copy + Default + Send, D: Dimension>(
            $a0: &ArrayRef<$A0, D>,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> R + Sync,
        ) -> Array<R, D> {
            $map_on(false, $a0, $($a,)* f)
        }

        #[doc = concat!("[`", stringify!($map), "`] for a loop that does much work per element (a transcendental function): split over [`loop_threads`] threads when it is big, with the same result.")]
        #[inline(always)]
        pub fn $par_map<$A0: Copy + Sync, $($A: Copy + Sync,)* R: Copy + Default + Send, D: Dimension>(
            $a0: &ArrayRef<$A0, D>,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> R + Sync,
        ) -> Array<R, D> {
            $map_on(true, $a0, $($a,)* f)
        }

        #[inline(always)]
        fn $map_on<$A0: Copy + Sync, $($A: Copy + Sync,)* R: Copy + Default + Send, D: Dimension>(
            threads: bool,
            $a0: &ArrayRef<$A0, D>,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> R + Sync,
        ) -> Array<R, D> {
            let shape = $a0.raw_dim();
            if let (Some($a0), $(Some($a),)*) = ($a0.as_slice(), $(slice_of($a, shape.slice()),)*) {
                // Dispatched to AVX2 where the CPU has it. The loop is a function
                // of its slices (`$slices`), not a closure reading them from its
                // captures: LLVM could not tell the captured slices from the
                // stores to `out` and left the closure's loop scalar (W2's
                // backward ran 3x slower than on the default target; as a
                // function, 2x faster, AMD EPYC).
                let len = $a0.len();
                $(let $a = &$a[..len];)*
                let mut out: Vec<R> = vec![R::default(); len];
                let run = |out: &mut [R], from: usize| {
                    let $a0 = &$a0[from..from + out.len()];
                    $(let $a = &$a[from..from + out.len()];)*
                    let f = &f;
                    math::dispatch(
                        #[inline(always)]
                        move || $slices(out, $a0, ($($a,)*), f),
                    );
                };
                split_run(&mut out, threads, run);
                return Array::from_shape_vec(shape, out).expect("one element per position");
            }
            // Operands stretched along leading axes (a mean per column) still
            // have contiguous rows: the same slice loop, dispatched, row by row.
            if let Some(last) = rows_axis(&[($a0.shape(), $a0.strides()) $(, ($a.shape(), $a.strides()))*], shape.slice()) {
                let mut out = Array::from_shape_simple_fn(shape, R::default);
                $rows(&mut out, last, $a0, $($a,)* &f);
                return out;
            }
            Zip::from($a0)$(.and($a))*.map_collect(|&$a0 $(, &$a)*| f($a0 $(, $a)*))
        }

        #[doc = concat!("[`", stringify!($map), "`] that writes its result over its first operand, a temporary nothing reads after the loop, instead of allocating: the buffer is reused when that operand has the loop's `shape`, and a new array is made otherwise (it is then stretched to `shape`, as the loop's other operands already are).")]
        #[inline(always)]
        pub fn $into<$A0: Copy + Default + Send + Sync, $($A: Copy + Sync,)* D: Dimension>(
            $a0: Array<$A0, D>,
            shape: &D,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> $A0 + Sync,
        ) -> Array<$A0, D> {
            $into_on(false, $a0, shape, $($a,)* f)
        }

        #[doc = concat!("[`", stringify!($into), "`] split over threads when big, as [`", stringify!($par_map), "`] is.")]
        #[inline(always)]
        pub fn $par_into<$A0: Copy + Default + Send + Sync, $($A: Copy + Sync,)* D: Dimension>(
            $a0: Array<$A0, D>,
            shape: &D,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> $A0 + Sync,
        ) -> Array<$A0, D> {
            $into_on(true, $a0, shape, $($a,)* f)
        }

        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn $into_on<$A0: Copy + Default + Send + Sync, $($A: Copy + Sync,)* D: Dimension>(
            threads: bool,
            mut $a0: Array<$A0, D>,
            shape: &D,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> $A0 + Sync,
        ) -> Array<$A0, D> {
            if $a0.raw_dim() != *shape {
                // Stretched by broadcasting: the result is bigger than the buffer.
                return $map_on(threads, &stretch(&$a0, shape), $($a,)* f);
            }
            if let (Some(out), $(Some($a),)*) = ($a0.as_slice_mut(), $(slice_of($a, shape.slice()),)*) {
                // (`from` is unused in a loop of one operand.)
                #[allow(unused_variables)]
                let run = |out: &mut [$A0], from: usize| {
                    $(let $a = &$a[from..from + out.len()];)*
                    let f = &f;
                    math::dispatch(
                        #[inline(always)]
                        move || $update(out, ($($a,)*), f),
                    );
                };
                split_run(out, threads, run);
                return $a0;
            }
            if let Some(last) = rows_axis(&[($a0.shape(), $a0.strides()) $(, ($a.shape(), $a.strides()))*], shape.slice()) {
                Zip::from($a0.lanes_mut(last))$(.and($a.lanes(last)))*.for_each(
                    |o $(, $a)*| {
                        let (o, $($a,)*) = (row_mut(o), $(row($a),)*);
                        let f = &f;
                        math::dispatch(
                            #[inline(always)]
                            move || $update(o, ($($a,)*), f),
                        );
                    },
                );
                return $a0;
            }
            Zip::from(&mut $a0)$(.and($a))*.for_each(|o, $(&$a),*| *o = f(*o $(, $a)*));
            $a0
        }

        /// The in-place loop over slices of `zip_mapN_into`: `out[i] = f(out[i], ..)`.
        #[inline(always)]
        #[allow(unused_variables)]
        fn $update<$A0: Copy, $($A: Copy,)*>(out: &mut [$A0], rest: ($(&[$A],)*), f: &impl Fn($A0 $(, $A)*) -> $A0) {
            let ($($a,)*) = rest;
            let n = out.len();
            $(let $a = &$a[..n];)*
            for i in 0..n {
                out[i] = f(out[i] $(, $a[i])*);
            }
        }

        /// The row-by-row loop (see [`rows_axis`]): the slice loop on each row,
        /// dispatched.
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn $rows<$A0: Copy, $($A: Copy,)* R: Copy, D: Dimension>(
            out: &mut ArrayRef<R, D>,
            last: Axis,
            $a0: &ArrayRef<$A0, D>,
            $($a: &ArrayRef<$A, D>,)*
            f: &impl Fn($A0 $(, $A)*) -> R,
        ) {
            Zip::from(out.lanes_mut(last)).and($a0.lanes(last))$(.and($a.lanes(last)))*.for_each(
                |o, $a0 $(, $a)*| {
                    let (o, $a0, $($a,)*) = (row_mut(o), row($a0), $(row($a),)*);
                    math::dispatch(
                        #[inline(always)]
                        move || $slices(o, $a0, ($($a,)*), f),
                    );
                },
            );
        }

        /// The loop over slices every fused loop runs (inside [`math::dispatch`]):
        /// a function of its slices, so that LLVM vectorizes it.
        #[inline(always)]
        fn $slices<$A0: Copy, $($A: Copy,)* R: Copy>(out: &mut [R], $a0: &[$A0], rest: ($(&[$A],)*), f: &impl Fn($A0 $(, $A)*) -> R) {
            let ($($a,)*) = rest;
            let n = out.len();
            let $a0 = &$a0[..n];
            $(let $a = &$a[..n];)*
            for i in 0..n {
                out[i] = f($a0[i] $(, $a[i])*);
            }
        }

        #[doc = concat!("A fused loop over ", stringify!($a0 $(, $a)*), ", writing `f` of each element into `out`.")]
        #[inline(always)]
        pub fn $fill<$A0: Copy, $($A: Copy,)* R: Copy, D: Dimension>(
            out: &mut ArrayRef<R, D>,
            $a0: &ArrayRef<$A0, D>,
            $($a: &ArrayRef<$A, D>,)*
            f: impl Fn($A0 $(, $A)*) -> R,
        ) {
            let shape = out.raw_dim();
            if let (Some(o), Some($a0), $(Some($a),)*) =
                (out.as_slice_mut(), slice_of($a0, shape.slice()), $(slice_of($a, shape.slice()),)*)
            {
                let len = o.len();
                let $a0 = &$a0[..len];
                $(let $a = &$a[..len];)*
                let f = &f;
                math::dispatch(
                    #[inline(always)]
                    move || $slices(o, $a0, ($($a,)*), f),
                );
                return;
            }
            if let Some(last) = rows_axis(&[(out.shape(), out.strides()), ($a0.shape(), $a0.strides()) $(, ($a.shape(), $a.strides()))*], shape.slice()) {
                $rows(out, last, $a0, $($a,)* &f);
                return;
            }
            Zip::from(out).and($a0)$(.and($a))*.for_each(|o, &$a0 $(, &$a)*| *o = f($a0 $(, $a)*));
        }
    )*};
}

/// Runs `run(part, offset)` over `out`: whole, or, with `threads` and a big
/// loop, a chunk per thread. Each element depends on its own position only, so
/// the result is the same bits however it is split.
#[inline(always)]
fn split_run<R: Send>(out: &mut [R], threads: bool, run: impl Fn(&mut [R], usize) + Sync) {
    if threads && parallel(out.len()) {
        let chunk = out.len().div_ceil(loop_threads());
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(c, out)| run(out, c * chunk));
    } else {
        run(out, 0);
    }
}

/// The shortest rows the row-by-row path takes: below it, a dispatch per row
/// costs more than the `Zip` it replaces.
const MIN_ROW: usize = 32;

/// The last axis, when a loop over `shape` may run row by row: at least two
/// axes, rows of at least [`MIN_ROW`] elements, and every array (given by its
/// shape and strides) of the loop's shape and contiguous along its rows. That
/// is true of an operand stretched along leading axes only, as a value per
/// column is in a loop over a matrix. (Arrays of another shape take the `Zip`,
/// which reports the mismatch.)
#[inline(always)]
fn rows_axis(arrays: &[(&[usize], &[isize])], shape: &[usize]) -> Option<Axis> {
    let last = shape.len().checked_sub(1).filter(|&l| l > 0)?;
    let fits = |&(s, strides): &(&[usize], &[isize])| s == shape && strides[last] == 1;
    (shape[last] >= MIN_ROW && arrays.iter().all(fits)).then_some(Axis(last))
}

/// A row of an array [`rows_axis`] accepted, as a slice.
#[inline(always)]
fn row<A>(r: ndarray::ArrayView1<'_, A>) -> &[A] {
    r.to_slice().expect("rows checked contiguous")
}

/// [`row`] for the array a loop writes.
#[inline(always)]
fn row_mut<A>(r: ndarray::ArrayViewMut1<'_, A>) -> &mut [A] {
    r.into_slice().expect("rows checked contiguous")
}

/// `a` as a slice when it is contiguous in standard order and has `shape`.
#[inline(always)]
fn slice_of<'a, A, D: Dimension>(a: &'a ArrayRef<A, D>, shape: &[usize]) -> Option<&'a [A]> {
    if a.shape() == shape {
        a.as_slice()
    } else {
        None
    }
}

zip_loops! {
    zip_map1 par_zip_map1 zip_map1_on zip_fill1 zip_map1_into par_zip_map1_into zip_map1_into_on zip_map1_slices zip_map1_update zip_map1_rows (a: A);
    zip_map2 par_zip_map2 zip_map2_on zip_fill2 zip_map2_into par_zip_map2_into zip_map2_into_on zip_map2_slices zip_map2_update zip_map2_rows (a: A, b: B);
    zip_map3 par_zip_map3 zip_map3_on zip_fill3 zip_map3_into par_zip_map3_into zip_map3_into_on zip_map3_slices zip_map3_update zip_map3_rows (a: A, b: B, c: C);
    zip_map4 par_zip_map4 zip_map4_on zip_fill4 zip_map4_into par_zip_map4_into zip_map4_into_on zip_map4_slices zip_map4_update zip_map4_rows (a: A, b: B, c: C, e: E);
    zip_map5 par_zip_map5 zip_map5_on zip_fill5 zip_map5_into par_zip_map5_into zip_map5_into_on zip_map5_slices zip_map5_update zip_map5_rows (a: A, b: B, c: C, e: E, h: H);
}

#[cfg(test)]
mod tests {
    use ndarray::{Array0, Array1, Array2, Array3, array};

    use super::*;

    /// The slice path and the Zip path compute the same, for contiguous,
    /// transposed and broadcast operands.
    #[test]
    fn loops_split_over_threads_give_the_same_bits() {
        // Big enough to be split; values whose sums depend on the order.
        let x = Array::from_shape_fn((700, 300), |(i, j)| {
            ((i * 300 + j) as f64 * 0.37).sin() * 3.0
        });
        let f = |x: f64| x.exp().ln_1p() * 0.5 + x.tanh();
        let reduce = |par: bool| {
            let mut acc = ndarray::Array1::<f64>::zeros(300);
            let compute = |rows, part: &mut ArrayRef<f64, ndarray::Ix2>| {
                zip_fill1(part, &x.slice_axis(Axis(0), rows), f)
            };
            if par {
                par_reduce_blocks(&mut acc, &x.raw_dim(), compute);
            } else {
                reduce_blocks(&mut acc, &x.raw_dim(), compute);
            }
            acc
        };
        let one = {
            set_loop_threads(1);
            (par_zip_map1(&x, f), reduce(true))
        };
        set_loop_threads(2);
        let two = (par_zip_map1(&x, f), reduce(true));
        set_loop_threads(0);
        assert_eq!(one.0, two.0);
        assert_eq!(one.0, zip_map1(&x, f));
        // Bit for bit, whatever the split.
        assert!(
            one.1
                .iter()
                .zip(&two.1)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        // And the same sums as the one-thread loop up to rounding.
        let plain = reduce(false);
        assert!(
            one.1
                .iter()
                .zip(&plain)
                .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
        );
    }

    #[test]
    fn zip_loops_match_zip_on_every_layout() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        let b = Array2::from_shape_fn((3, 4), |(i, j)| (j as f64) - (i as f64));
        let expected = Zip::from(&a).and(&b).map_collect(|&a, &b| a * b + 1.0);
        assert_eq!(zip_map2(&a, &b, |a, b| a * b + 1.0), expected);
        let at = a.t().to_owned();
        let expected_t = Zip::from(&at.t()).and(&b).map_collect(|&a, &b| a - b);
        assert_eq!(zip_map2(&at.t(), &b, |a, b| a - b), expected_t);
        let row = array![1.0, 2.0, 3.0, 4.0];
        let stretched = stretch(&row, &a.raw_dim());
        assert_eq!(zip_map2(&a, &stretched, |a, r| a + r), &a + &row);
        let mut out = Array2::zeros((3, 4));
        zip_fill2(&mut out, &a, &b, |a, b| a * b + 1.0);
        assert_eq!(out, expected);
        let mask = a.mapv(|v| v > 5.0);
        assert_eq!(
            zip_map2(&mask, &a, |m, a| if m { a } else { 0.0 }),
            a.mapv(|v| if v > 5.0 { v } else { 0.0 })
        );
    }

    /// The in-place loops compute what `zip_map` computes, over the operand's own
    /// buffer when it has the loop's shape (contiguous or not), and into a new
    /// array when the loop stretches it.
    #[test]
    fn loops_into_a_temporary_reuse_its_buffer_when_the_shapes_agree() {
        let a = Array2::from_shape_fn((300, 257), |(i, j)| ((i * 257 + j) as f64 * 0.1).sin());
        let b = Array2::from_shape_fn((300, 257), |(i, j)| (i as f64) - (j as f64));
        let f = |a: f64, b: f64| a * b + 1.0;
        let expected = zip_map2(&a, &b, f);
        let shape = a.raw_dim();
        let buffer = a.clone();
        let at = buffer.as_ptr();
        let out = zip_map2_into(buffer, &shape, &b, f);
        assert_eq!(out, expected);
        assert_eq!(out.as_ptr(), at, "the buffer is reused");
        set_loop_threads(2);
        let split = par_zip_map2_into(a.clone(), &shape, &b, f);
        set_loop_threads(0);
        assert_eq!(split, expected);
        // A transposed temporary of the loop's shape: the `Zip` path, in place.
        let t = a.t().to_owned().reversed_axes();
        assert_eq!(t, a);
        let at = t.as_ptr();
        let out = zip_map2_into(t, &shape, &b, f);
        assert_eq!(out, expected);
        assert_eq!(out.as_ptr(), at);
        // A row stretched to the loop's shape: a new array.
        let row = Array2::from_shape_fn((1, 257), |(_, j)| j as f64);
        let out = zip_map2_into(row.clone(), &shape, &b, f);
        assert_eq!(out, zip_map2(&stretch(&row, &shape), &b, f));
        assert_eq!(zip_map1_into(a.clone(), &shape, |a| -a), -&a);
    }

    /// Operands stretched along axis 0 (a value per column) run row by row
    /// under dispatch: the same elements as `Zip` computes, for the map, the
    /// in-place and the fill loops, in two and three dimensions; a loop whose
    /// rows are short or not contiguous runs the `Zip`.
    #[test]
    fn loops_over_operands_stretched_along_leading_axes_run_row_by_row() {
        let (n, c) = (37, 70);
        let x = Array2::from_shape_fn((n, c), |(i, j)| ((i * c + j) as f64 * 0.13).sin());
        let mu = Array1::from_shape_fn(c, |j| j as f64 * 0.01 - 0.3);
        let sd = Array1::from_shape_fn(c, |j| 1.0 + j as f64 * 0.02);
        let shape = x.raw_dim();
        let (m, s) = (stretch(&mu, &shape), stretch(&sd, &shape));
        assert!(
            rows_axis(
                &[
                    (x.shape(), x.strides()),
                    (m.shape(), m.strides()),
                    (s.shape(), s.strides())
                ],
                shape.slice()
            )
            .is_some()
        );
        let f = |x: f64, m: f64, s: f64| ((x - m) / s).tanh();
        let expected = Zip::from(&x)
            .and(&m)
            .and(&s)
            .map_collect(|&x, &m, &s| f(x, m, s));
        assert_eq!(zip_map3(&x, &m, &s, f), expected);
        assert_eq!(par_zip_map3(&x, &m, &s, f), expected);
        let buffer = x.clone();
        let at = buffer.as_ptr();
        let out = zip_map3_into(buffer, &shape, &m, &s, f);
        assert_eq!(out, expected);
        assert_eq!(out.as_ptr(), at, "the buffer is reused");
        let mut filled = Array2::zeros((n, c));
        zip_fill3(&mut filled, &x, &m, &s, f);
        assert_eq!(filled, expected);
        // Three axes, stretched along the first two.
        let x3 = Array3::from_shape_fn((3, 4, c), |(i, j, k)| (i * 7 + j * 3 + k) as f64 * 0.01);
        let m3 = stretch(&mu, &x3.raw_dim());
        assert_eq!(zip_map2(&x3, &m3, |a, b| a * b - 1.0), &x3 * &mu - 1.0);
        // A column stretched along the rows: not contiguous along them, `Zip`.
        let col = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let stretched_col = stretch(&col, &shape);
        assert!(
            rows_axis(
                &[
                    (x.shape(), x.strides()),
                    (stretched_col.shape(), stretched_col.strides())
                ],
                shape.slice()
            )
            .is_none()
        );
        assert_eq!(zip_map2(&x, &stretched_col, |a, b| a + b), &x + &col);
        // Rows shorter than `MIN_ROW`: `Zip`.
        let short = Array2::from_shape_fn((40, MIN_ROW - 1), |(i, j)| (i + j) as f64);
        let short_row = Array1::from_shape_fn(MIN_ROW - 1, |j| j as f64);
        let sr = stretch(&short_row, &short.raw_dim());
        assert!(
            rows_axis(
                &[(short.shape(), short.strides()), (sr.shape(), sr.strides())],
                short.shape()
            )
            .is_none()
        );
        // Operands of different shapes never run row by row: the `Zip`
        // reports them, where cutting rows to one length would not.
        let wide = Array2::<f64>::zeros((n, c + 10));
        assert!(
            rows_axis(
                &[(x.shape(), x.strides()), (wide.shape(), wide.strides())],
                shape.slice()
            )
            .is_none()
        );
        let mismatch = std::panic::catch_unwind(|| zip_map2(&x, &wide, |a, b| a + b));
        assert!(
            mismatch.is_err(),
            "a loop over operands of different shapes panics"
        );
        assert_eq!(zip_map2(&short, &sr, |a, b| a * b), &short * &short_row);
    }

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
