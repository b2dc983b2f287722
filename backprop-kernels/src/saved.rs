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

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Weak};

use ndarray::{Array, ArrayBase, ArrayRef, Dimension};

/// An element of an array a `Saved` keeps: compared bit for bit, so that a
/// shared copy is exactly what a fresh copy would be (`-0.0` is not `0.0`,
/// and a NaN is the same NaN).
pub trait SavedElem: Clone + Send + Sync + 'static {
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
pub struct SavedArray<A, D: Dimension>(Arc<Array<A, D>>);

impl<A, D: Dimension> SavedArray<A, D> {
    /// The array.
    pub fn array(&self) -> &Array<A, D> {
        &self.0
    }

    /// The array, moved out when no other `Saved` shares it, else copied.
    pub fn into_array(self) -> Array<A, D>
    where
        A: Clone,
    {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }

    /// Exchanges the array with `other`: how a layer lends its parameter to
    /// its backward and takes it back, with no copy. Only a copy that another
    /// `Saved` shares is copied first, so that the exchange changes no other.
    pub fn swap(&mut self, other: &mut Array<A, D>)
    where
        A: Clone,
    {
        std::mem::swap(Arc::make_mut(&mut self.0), other);
    }
}

impl<A, D: Dimension> Deref for SavedArray<A, D> {
    type Target = Array<A, D>;
    fn deref(&self) -> &Array<A, D> {
        &self.0
    }
}

impl<A, D: Dimension> Clone for SavedArray<A, D> {
    fn clone(&self) -> Self {
        SavedArray(Arc::clone(&self.0))
    }
}

impl<A: fmt::Debug, D: Dimension> fmt::Debug for SavedArray<A, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An empty array (for a 0-d array, its default element): what a layer's
/// training forward keeps in place of a parameter it lends.
impl<A: Default, D: Dimension> Default for SavedArray<A, D> {
    fn default() -> Self {
        SavedArray(Arc::new(Array::default(D::default())))
    }
}

impl<A, D: Dimension> From<Array<A, D>> for SavedArray<A, D> {
    fn from(a: Array<A, D>) -> Self {
        SavedArray(Arc::new(a))
    }
}

/// Arithmetic on a saved array reads as on the array it holds, so that a
/// backward written by hand says `&saved.x * &d_out` as it would of an array:
/// `&saved op rhs` for every `rhs` the array takes, `&array op &saved`, and
/// `f32`/`f64` `op &saved` as ndarray has them.
macro_rules! saved_arithmetic {
    ($($trait:ident $method:ident),*) => {$(
        impl<'a, A, D: Dimension, R> std::ops::$trait<R> for &'a SavedArray<A, D>
        where
            &'a Array<A, D>: std::ops::$trait<R>,
        {
            type Output = <&'a Array<A, D> as std::ops::$trait<R>>::Output;
            fn $method(self, rhs: R) -> Self::Output {
                std::ops::$trait::$method(&*self.0, rhs)
            }
        }

        impl<'a, 'b, S, D, A, E> std::ops::$trait<&'b SavedArray<A, E>> for &'a ArrayBase<S, D>
        where
            S: ndarray::Data,
            D: Dimension,
            E: Dimension,
            &'a ArrayBase<S, D>: std::ops::$trait<&'b Array<A, E>>,
        {
            type Output = <&'a ArrayBase<S, D> as std::ops::$trait<&'b Array<A, E>>>::Output;
            fn $method(self, rhs: &'b SavedArray<A, E>) -> Self::Output {
                std::ops::$trait::$method(self, &*rhs.0)
            }
        }

        saved_arithmetic!(@scalar $trait $method f32);
        saved_arithmetic!(@scalar $trait $method f64);
    )*};
    (@scalar $trait:ident $method:ident $float:ty) => {
        impl<'a, D: Dimension> std::ops::$trait<&'a SavedArray<$float, D>> for $float {
            type Output = Array<$float, D>;
            fn $method(self, rhs: &'a SavedArray<$float, D>) -> Array<$float, D> {
                std::ops::$trait::$method(self, &*rhs.0)
            }
        }
    };
}

saved_arithmetic!(Add add, Sub sub, Mul mul, Div div, Rem rem);

impl<'a, A, D: Dimension> std::ops::Neg for &'a SavedArray<A, D>
where
    &'a Array<A, D>: std::ops::Neg,
{
    type Output = <&'a Array<A, D> as std::ops::Neg>::Output;
    fn neg(self) -> Self::Output {
        -&*self.0
    }
}

/// A copy [`save`] made, found again by where it was copied from.
struct Recent {
    /// The first element's address, the shape and the strides of the source.
    ptr: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
    /// `TypeId` of `Array<A, D>`.
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
        return SavedArray::from(x.to_owned());
    }
    let ptr = x.as_ptr() as usize;
    let ty = TypeId::of::<Array<A, D>>();
    let same_source =
        |r: &Recent| r.ptr == ptr && r.ty == ty && r.shape == x.shape() && r.strides == x.strides();
    let found = RECENT.with_borrow(|recent| {
        recent
            .iter()
            .filter(|r| same_source(r))
            .find_map(|r| r.copy.upgrade())
    });
    if let Some(copy) = found
        && let Ok(copy) = copy.downcast::<Array<A, D>>()
        && same_elements(&copy, x)
    {
        return SavedArray(copy);
    }
    let copy = Arc::new(x.to_owned());
    let weak: Weak<dyn Any + Send + Sync> = {
        let any: Arc<dyn Any + Send + Sync> = copy.clone();
        Arc::downgrade(&any)
    };
    let entry = Recent {
        ptr,
        shape: x.shape().to_vec(),
        strides: x.strides().to_vec(),
        ty,
        copy: weak,
    };
    RECENT.with_borrow_mut(|recent| {
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
    SavedArray(copy)
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
