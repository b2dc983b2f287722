//! The copies of its inputs that a training forward keeps for its backward,
//! shared between the `Saved`s of calls given the same values.
//!
//! A `Saved` must stand alone: the caller may change or drop its inputs before
//! it runs the backward, so `NAME_train` copies each input its backward reads.
//! But the usual loop over time steps passes the same weights at every step,
//! and a copy per step is most of what such a loop allocates (50 copies of a
//! `[256, 256]` matrix in an RNN of 50 steps, which took a third of its step in
//! allocation and page faults). So [`save`] first looks among the copies that
//! earlier calls on this thread made and some `Saved` still holds: one made
//! from the same memory, of the same shape and strides, whose elements are
//! still bit for bit those of the input, is shared instead of copied again.
//! Comparing reads the input once, which is less than a copy does (a read, an
//! allocation and a write). The table holds only weak references, so it keeps
//! no copy alive once the last `Saved` holding it is dropped.
//!
//! When that last `Saved` is dropped, the copy's buffer is kept for the next
//! copy this thread makes (at most four buffers, each of at least 64 KiB, 64
//! MiB in all; [`release_spare_buffers`] frees them): a training step copies
//! its inputs into memory the previous step used, instead of into fresh pages
//! that the system allocator, which returns freed memory at the top of the
//! heap to the OS, faults in and zeroes again at every step.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Weak};

use ndarray::{Array, ArrayBase, ArrayRef, Dimension};

/// An element of an array a `Saved` keeps: compared bit for bit, so that a
/// shared copy is exactly what a fresh copy would be (`-0.0` is not `0.0`,
/// and a NaN is the same NaN). An implementation must compare the bits, never
/// with `==` on floats: a shared copy is only as exact as this test.
pub trait SavedElem: Clone + Default + Send + Sync + 'static {
    /// Whether `self` and `other` have the same bits.
    fn same_bits(&self, other: &Self) -> bool;
}

impl SavedElem for f32 {
    fn same_bits(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl SavedElem for f64 {
    fn same_bits(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl SavedElem for usize {
    fn same_bits(&self, other: &Self) -> bool {
        self == other
    }
}

/// A copy of an input kept by a `Saved`, possibly shared with other `Saved`s
/// (see [`save`]). It reads as the array it holds (`Deref`); cloning it shares
/// the copy, which is never changed.
pub struct SavedArray<A: SavedElem, D: Dimension>(Arc<Kept<A, D>>);

/// The array a [`SavedArray`] shares: when the last `Saved` holding it is
/// dropped, its buffer is kept for the next copy (see [`save`]).
/// The buffer goes back to the spares of the thread that made the copy only:
/// one dropped on another (a `Saved` sent to a worker) is freed, so that no
/// thread collects buffers it never copies into.
#[derive(Clone)]
struct Kept<A: SavedElem, D: Dimension>(Array<A, D>, std::thread::ThreadId);

impl<A: SavedElem, D: Dimension> Drop for Kept<A, D> {
    fn drop(&mut self) {
        if self.1 == std::thread::current().id() {
            let (buffer, _) = std::mem::take(&mut self.0).into_raw_vec_and_offset();
            keep_spare(buffer);
        }
    }
}

impl<A: SavedElem, D: Dimension> SavedArray<A, D> {
    fn new(a: Array<A, D>) -> Self {
        SavedArray(Arc::new(Kept(a, std::thread::current().id())))
    }

    /// A copy of the array, as an `Array` of its own (`clone` instead shares
    /// the saved copy, which is never changed).
    pub fn to_owned(&self) -> Array<A, D> {
        self.0.0.clone()
    }

    /// The array, moved out when no other `Saved` shares it, else copied.
    pub fn into_array(self) -> Array<A, D> {
        match Arc::try_unwrap(self.0) {
            Ok(mut only) => std::mem::take(&mut only.0),
            Err(shared) => shared.0.clone(),
        }
    }

    /// Exchanges the array with `other`: how a layer lends its parameter to
    /// its backward and takes it back, with no copy. Only a copy that another
    /// `Saved` shares is copied first, so that the exchange changes no other.
    pub fn swap(&mut self, other: &mut Array<A, D>) {
        std::mem::swap(&mut Arc::make_mut(&mut self.0).0, other);
    }
}

impl<A: SavedElem, D: Dimension> Deref for SavedArray<A, D> {
    type Target = Array<A, D>;
    fn deref(&self) -> &Array<A, D> {
        &self.0.0
    }
}

impl<A: SavedElem, D: Dimension> Clone for SavedArray<A, D> {
    fn clone(&self) -> Self {
        SavedArray(Arc::clone(&self.0))
    }
}

impl<A: SavedElem + fmt::Debug, D: Dimension> fmt::Debug for SavedArray<A, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.0.fmt(f)
    }
}

/// An empty array (for a 0-d array, its default element): what a layer's
/// training forward keeps in place of a parameter it lends.
impl<A: SavedElem, D: Dimension> Default for SavedArray<A, D> {
    fn default() -> Self {
        SavedArray::new(Array::default(D::default()))
    }
}

impl<A: SavedElem, D: Dimension> From<Array<A, D>> for SavedArray<A, D> {
    fn from(a: Array<A, D>) -> Self {
        SavedArray::new(a)
    }
}

/// Arithmetic on a saved array reads as on the array it holds, so that a
/// backward written by hand says `&saved.x * &d_out` as it would of an array:
/// `&saved op rhs` for every `rhs` the array takes, `&array op &saved`, and
/// `f32`/`f64` `op &saved` as ndarray has them.
macro_rules! saved_arithmetic {
    ($($trait:ident $method:ident),*) => {$(
        impl<'a, A: SavedElem, D: Dimension, R> std::ops::$trait<R> for &'a SavedArray<A, D>
        where
            &'a Array<A, D>: std::ops::$trait<R>,
        {
            type Output = <&'a Array<A, D> as std::ops::$trait<R>>::Output;
            fn $method(self, rhs: R) -> Self::Output {
                std::ops::$trait::$method(&self.0.0, rhs)
            }
        }

        impl<'a, 'b, S, D, A: SavedElem, E> std::ops::$trait<&'b SavedArray<A, E>> for &'a ArrayBase<S, D>
        where
            S: ndarray::Data,
            D: Dimension,
            E: Dimension,
            &'a ArrayBase<S, D>: std::ops::$trait<&'b Array<A, E>>,
        {
            type Output = <&'a ArrayBase<S, D> as std::ops::$trait<&'b Array<A, E>>>::Output;
            fn $method(self, rhs: &'b SavedArray<A, E>) -> Self::Output {
                std::ops::$trait::$method(self, &rhs.0.0)
            }
        }

        saved_arithmetic!(@scalar $trait $method f32);
        saved_arithmetic!(@scalar $trait $method f64);
    )*};
    (@scalar $trait:ident $method:ident $float:ty) => {
        impl<'a, D: Dimension> std::ops::$trait<&'a SavedArray<$float, D>> for $float {
            type Output = Array<$float, D>;
            fn $method(self, rhs: &'a SavedArray<$float, D>) -> Array<$float, D> {
                std::ops::$trait::$method(self, &rhs.0.0)
            }
        }
    };
}

saved_arithmetic!(Add add, Sub sub, Mul mul, Div div, Rem rem);

impl<'a, A: SavedElem, D: Dimension> std::ops::Neg for &'a SavedArray<A, D>
where
    &'a Array<A, D>: std::ops::Neg,
{
    type Output = <&'a Array<A, D> as std::ops::Neg>::Output;
    fn neg(self) -> Self::Output {
        -&self.0.0
    }
}

/// A copy [`save`] made, found again by where it was copied from.
struct Recent {
    /// The first element's address, the shape and the strides of the source.
    ptr: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
    /// `TypeId` of `Kept<A, D>`.
    ty: TypeId,
    copy: Weak<dyn Any + Send + Sync>,
}

/// How many recent copies each thread remembers: enough for every input of
/// a few functions called in turn at each time step.
const REMEMBERED: usize = 16;

thread_local! {
    static RECENT: RefCell<Vec<Recent>> = const { RefCell::new(Vec::new()) };
}

/// A copy of `x` for a `Saved`: shared with an earlier one still held by some
/// `Saved`, if one was made from the same memory and still has the same bits,
/// else a new copy (see the module's doc).
pub fn save<A, D>(x: &ArrayRef<A, D>) -> SavedArray<A, D>
where
    A: SavedElem,
    D: Dimension + 'static,
{
    if x.is_empty() {
        return SavedArray::new(x.to_owned());
    }
    let ptr = x.as_ptr() as usize;
    let ty = TypeId::of::<Kept<A, D>>();
    let same_source =
        |r: &Recent| r.ptr == ptr && r.ty == ty && r.shape == x.shape() && r.strides == x.strides();
    // (At thread exit the table may be gone: then nothing is found or kept.)
    let found = RECENT
        .try_with(|recent| {
            recent
                .borrow()
                .iter()
                .filter(|r| same_source(r))
                .find_map(|r| r.copy.upgrade())
        })
        .ok()
        .flatten();
    if let Some(copy) = found
        && let Ok(copy) = copy.downcast::<Kept<A, D>>()
        && same_elements(&copy.0, x)
    {
        return SavedArray(copy);
    }
    let copy = SavedArray::new(copy_of(x));
    let weak: Weak<dyn Any + Send + Sync> = {
        let any: Arc<dyn Any + Send + Sync> = copy.0.clone();
        Arc::downgrade(&any)
    };
    let entry = Recent {
        ptr,
        shape: x.shape().to_vec(),
        strides: x.strides().to_vec(),
        ty,
        copy: weak,
    };
    let _ = RECENT.try_with(|recent| {
        let mut recent = recent.borrow_mut();
        // The entry of the same source, else one whose copy is gone, else the oldest.
        match recent
            .iter()
            .position(|r| same_source(r) || r.copy.strong_count() == 0)
        {
            Some(i) => recent[i] = entry,
            None if recent.len() < REMEMBERED => recent.push(entry),
            None => {
                recent.remove(0);
                recent.push(entry);
            }
        }
    });
    copy
}

/// A copy of `x` in standard layout, in a spare buffer when one fits.
fn copy_of<A: SavedElem, D: Dimension>(x: &ArrayRef<A, D>) -> Array<A, D> {
    let Some(mut buffer) = take_spare::<A>(x.len()) else {
        return x.to_owned();
    };
    buffer.clear();
    match x.as_slice() {
        Some(elements) => buffer.extend_from_slice(elements),
        None => buffer.extend(x.iter().cloned()),
    }
    Array::from_shape_vec(x.raw_dim(), buffer).expect("one element per position")
}

/// How many buffers of dropped copies each thread keeps for the next copies,
/// the most recent first: enough for the inputs of a step, so that a training
/// loop copies its inputs into memory it already has instead of asking the
/// allocator for fresh pages at every step (the system allocator returns
/// freed memory at the top of the heap to the OS, and each page is then
/// faulted in and zeroed again: most of W4's step on some heaps).
const SPARE_BUFFERS: usize = 4;

/// Buffers smaller than this are left to the allocator, which reuses them well.
const MIN_SPARE_BYTES: usize = 64 * 1024;

/// The most memory each thread keeps in spare buffers: a buffer that would
/// take it past this is freed (the oldest first), so that a program that once
/// saved a big input does not keep it.
const MAX_SPARE_BYTES: usize = 64 * 1024 * 1024;

thread_local! {
    /// Each kept buffer (a `Vec<A>`, boxed) and its bytes, the oldest first.
    static SPARE: RefCell<Vec<(usize, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// A kept buffer of `A` that holds `len` elements without wasting more than
/// half of it, taken out of the spares.
fn take_spare<A: SavedElem>(len: usize) -> Option<Vec<A>> {
    if len * std::mem::size_of::<A>() < MIN_SPARE_BYTES {
        return None;
    }
    SPARE
        .try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let fits = |(_, b): &(usize, Box<dyn Any>)| {
                b.downcast_ref::<Vec<A>>()
                    .is_some_and(|v| v.capacity() >= len && v.capacity() / 2 <= len)
            };
            let i = spare.iter().rposition(fits)?;
            spare.remove(i).1.downcast::<Vec<A>>().ok().map(|b| *b)
        })
        .ok()
        .flatten()
}

/// Keeps `buffer` for a later copy (dropping the oldest kept one beyond
/// [`SPARE_BUFFERS`]); a small one is freed at once.
fn keep_spare<A: SavedElem>(buffer: Vec<A>) {
    let bytes = buffer.capacity() * std::mem::size_of::<A>();
    if !(MIN_SPARE_BYTES..=MAX_SPARE_BYTES).contains(&bytes) {
        return;
    }
    // At thread exit the table is gone: the buffer is then simply freed.
    let _ = SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        spare.push((bytes, Box::new(buffer)));
        let mut total: usize = spare.iter().map(|(b, _)| b).sum();
        while spare.len() > SPARE_BUFFERS || total > MAX_SPARE_BYTES {
            total -= spare.remove(0).0;
        }
    });
}

/// The bytes of the buffers this thread keeps for later copies: memory a
/// training step uses, though it was allocated before the step began.
pub fn spare_buffer_bytes() -> usize {
    SPARE
        .try_with(|spare| spare.borrow().iter().map(|(bytes, _)| bytes).sum())
        .unwrap_or(0)
}

/// Frees the buffers this thread keeps for the copies of later `Saved`s (at
/// most four, each of at least 64 KiB, 64 MiB in all): for a program that is
/// done training and wants the memory back at once rather than at the
/// thread's exit.
pub fn release_spare_buffers() {
    let _ = SPARE.try_with(|spare| spare.borrow_mut().clear());
}

/// Whether `copy` and `x` (of one shape) hold the same bits, compared in
/// blocks so that the loop vectorizes yet stops at the first block that differs.
fn same_elements<A, D>(copy: &Array<A, D>, x: &ArrayRef<A, D>) -> bool
where
    A: SavedElem,
    D: Dimension,
{
    const BLOCK: usize = 256;
    match (copy.as_slice_memory_order(), x.as_slice_memory_order()) {
        (Some(a), Some(b)) if copy.strides() == x.strides() => {
            a.chunks(BLOCK).zip(b.chunks(BLOCK)).all(|(p, q)| {
                p.iter()
                    .zip(q)
                    .fold(true, |same, (p, q)| same & p.same_bits(q))
            })
        }
        _ => ndarray::Zip::from(copy).and(x).all(|p, q| p.same_bits(q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Axis, Slice, array};

    fn shares(a: &SavedArray<f64, ndarray::Ix2>, b: &SavedArray<f64, ndarray::Ix2>) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    #[test]
    fn the_same_input_is_copied_once_while_a_copy_is_held() {
        let w = Array2::from_shape_fn((40, 30), |(i, j)| (i * 30 + j) as f64);
        let first = save(&w.view());
        let second = save(&w);
        assert!(shares(&first, &second));
        assert_eq!(*second, w);
        // Once every copy is dropped, nothing is kept: the next is new.
        let weak = Arc::downgrade(&first.0);
        drop((first, second));
        assert_eq!(weak.strong_count(), 0);
        let third = save(&w);
        assert_eq!(*third, w);
        assert_eq!(Arc::strong_count(&third.0), 1);
    }

    #[test]
    fn an_input_changed_in_place_is_copied_again() {
        let mut w = Array2::from_elem((8, 8), 1.0f64);
        let first = save(&w);
        w[[7, 7]] = 2.0;
        let second = save(&w);
        assert!(!shares(&first, &second));
        assert_eq!(first[[7, 7]], 1.0);
        assert_eq!(second[[7, 7]], 2.0);
        // Bits, not values: -0.0 == 0.0, yet the copy must keep the sign.
        w[[0, 0]] = 0.0;
        let zero = save(&w);
        w[[0, 0]] = -0.0;
        let negative_zero = save(&w);
        assert!(!shares(&zero, &negative_zero));
        assert!(negative_zero[[0, 0]].is_sign_negative());
        // A NaN is the same NaN.
        w[[1, 1]] = f64::NAN;
        let nan = save(&w);
        assert!(shares(&nan, &save(&w)));
    }

    #[test]
    fn views_of_other_shapes_or_strides_are_other_sources() {
        let w = Array2::from_shape_fn((6, 6), |(i, j)| (i * 6 + j) as f64);
        let whole = save(&w);
        let transposed = save(&w.t());
        let corner = save(
            &w.slice_axis(Axis(0), Slice::from(..3))
                .slice_axis(Axis(1), Slice::from(..3)),
        );
        assert!(!shares(&whole, &transposed));
        assert!(!shares(&whole, &corner));
        assert_eq!(*transposed, w.t());
        assert_eq!(
            *corner,
            w.slice_axis(Axis(0), Slice::from(..3))
                .slice_axis(Axis(1), Slice::from(..3))
        );
        // A strided view shared again is compared element by element.
        let again = save(&w.t());
        assert!(shares(&transposed, &again));
        let every_other = save(&w.slice_axis(Axis(1), Slice::new(0, None, 2)));
        assert!(shares(
            &every_other,
            &save(&w.slice_axis(Axis(1), Slice::new(0, None, 2)))
        ));
    }

    #[test]
    fn more_sources_than_remembered_still_copy_correctly() {
        let arrays: Vec<Array2<f64>> = (0..2 * REMEMBERED)
            .map(|k| Array2::from_elem((4, 4), k as f64))
            .collect();
        let copies: Vec<_> = arrays.iter().map(|a| save(a)).collect();
        for (a, c) in arrays.iter().zip(&copies) {
            assert_eq!(**c, *a);
        }
        // The most recent are still found.
        let last = arrays.last().expect("arrays");
        assert!(shares(copies.last().expect("copies"), &save(last)));
    }

    #[test]
    fn a_dropped_copy_lends_its_buffer_to_the_next_one() {
        release_spare_buffers();
        let a = Array2::from_shape_fn((128, 128), |(i, j)| (i * 128 + j) as f64);
        let b = Array2::from_shape_fn((128, 128), |(i, j)| (i + j) as f64);
        let first = save(&a);
        let buffer = first.as_ptr();
        drop(first);
        // Another source of the same size: copied into the kept buffer.
        let second = save(&b);
        assert_eq!(second.as_ptr(), buffer);
        assert_eq!(*second, b);
        drop(second);
        // A transposed source is copied in standard layout, element by element.
        let transposed = save(&b.t());
        assert_eq!(transposed.as_ptr(), buffer);
        assert_eq!(*transposed, b.t());
        drop(transposed);
        // Small copies are left to the allocator; release frees what is kept.
        let small = Array2::from_elem((4, 4), 1.0f64);
        drop(save(&small));
        assert_eq!(spare_buffer_bytes(), 128 * 128 * 8);
        release_spare_buffers();
        assert_eq!(spare_buffer_bytes(), 0);
        let third = save(&a);
        assert_eq!(*third, a);
    }

    #[test]
    fn a_copy_dropped_on_another_thread_is_freed_there_not_kept() {
        let a = Array2::from_elem((128, 128), 2.0f64);
        let copy = save(&a);
        let kept_there = std::thread::spawn(move || {
            drop(copy);
            spare_buffer_bytes()
        })
        .join()
        .expect("the thread runs");
        assert_eq!(kept_there, 0);
        // `to_owned` gives an array of its own; `clone` shares.
        let saved = save(&a);
        let own: Array2<f64> = saved.to_owned();
        assert_eq!(own, a);
        assert_ne!(own.as_ptr(), saved.as_ptr());
        assert_eq!(saved.clone().as_ptr(), saved.as_ptr());
    }

    #[test]
    fn the_spare_buffers_stay_within_their_count_and_bytes() {
        release_spare_buffers();
        let arrays: Vec<Array2<f64>> = (0..6)
            .map(|k| Array2::from_elem((100, 100 + k), k as f64))
            .collect();
        for a in &arrays {
            drop(save(a));
        }
        let kept = SPARE.with_borrow(Vec::len);
        assert_eq!(kept, SPARE_BUFFERS);
        // The newest are kept: the last array's size is there.
        assert!(spare_buffer_bytes() >= 100 * 105 * 8);
        // A buffer bigger than the whole budget is freed at once.
        release_spare_buffers();
        keep_spare::<f32>(Vec::with_capacity(MAX_SPARE_BYTES / 4 + 1));
        assert_eq!(spare_buffer_bytes(), 0);
    }

    #[test]
    fn a_saved_array_takes_arithmetic_as_its_array_does() {
        let x = array![[1.0f64, -2.0], [3.0, 4.0]];
        let saved = save(&x);
        let d = array![[0.5f64, 1.0], [2.0, -1.0]];
        assert_eq!(&saved * &d.view(), &x * &d);
        assert_eq!(&saved * &d, &x * &d);
        assert_eq!(&d - &saved, &d - &x);
        assert_eq!(&saved + &saved, &x + &x);
        assert_eq!(&saved / 2.0, &x / 2.0);
        assert_eq!(3.0 * &saved, 3.0 * &x);
        assert_eq!(-&saved, -&x);
        assert_eq!(&saved % 3.0, &x % 3.0);
        let single = save(&array![[1.0f32, 2.0]]);
        assert_eq!(1.0f32 - &single, array![[0.0f32, -1.0]]);
    }

    #[test]
    fn a_lent_array_is_swapped_in_and_out_without_touching_a_shared_copy() {
        let w = array![[1.0f64, 2.0], [3.0, 4.0]];
        let mut saved = save(&w);
        let other = saved.clone();
        let mut param = array![[5.0f64, 6.0], [7.0, 8.0]];
        saved.swap(&mut param);
        assert_eq!(*saved, array![[5.0, 6.0], [7.0, 8.0]]);
        assert_eq!(param, w);
        assert_eq!(*other, w);
        saved.swap(&mut param);
        assert_eq!(param, array![[5.0, 6.0], [7.0, 8.0]]);
        let empty = SavedArray::<f64, ndarray::Ix2>::default();
        assert_eq!(empty.len(), 0);
        assert_eq!(other.into_array(), w);
    }
}
