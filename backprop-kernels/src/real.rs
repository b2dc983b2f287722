//! The float types a differentiable function can be instantiated with.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{ArrayD, ArrayViewD, LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive};

/// A float type that generated code and the runtime can compute with: `f32` or `f64`.
///
/// One layer is written once, generic over `T: Real`, gradient-checked in `f64`
/// and trained in `f32`.
pub trait Real:
    Float
    + FromPrimitive
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + crate::math::Elementary
    + crate::saved::SavedElem
    + 'static
{
    /// The value of an `f64` literal in this type (rounded for `f32`).
    fn lit(x: f64) -> Self;
    /// This value widened (or kept) as `f64`.
    fn to_f64_lossy(self) -> f64;
    /// The name of the type as written in Rust (`"f32"` or `"f64"`).
    const NAME: &'static str;
    /// A view of this type as either float type's, to cross a call of a
    /// `#[differentiable]` function whose float type only the compiler knows.
    fn to_float_view(a: ArrayViewD<'_, Self>) -> FloatView<'_>;
    /// The view back, if it is of this type.
    fn from_float_view(v: FloatView<'_>) -> Option<ArrayViewD<'_, Self>>;
    /// An array of this type as either float type's.
    fn to_float_array(a: ArrayD<Self>) -> FloatArray;
    /// The array back, if it is of this type.
    fn from_float_array(a: FloatArray) -> Option<ArrayD<Self>>;
}

/// A float array view of either float type: what crosses a call of one
/// `#[differentiable]` function from another (see `ops::Callee`), without a copy.
#[derive(Clone, Debug)]
pub enum FloatView<'a> {
    /// An `f32` view.
    F32(ArrayViewD<'a, f32>),
    /// An `f64` view.
    F64(ArrayViewD<'a, f64>),
}

/// An owned float array of either float type, as [`FloatView`].
#[derive(Clone, Debug)]
pub enum FloatArray {
    /// An `f32` array.
    F32(ArrayD<f32>),
    /// An `f64` array.
    F64(ArrayD<f64>),
}

/// The four conversions of [`Real`] for a float type and its variant.
macro_rules! float_conversions {
    ($variant:ident) => {
        fn to_float_view(a: ArrayViewD<'_, Self>) -> FloatView<'_> {
            FloatView::$variant(a)
        }
        fn from_float_view(v: FloatView<'_>) -> Option<ArrayViewD<'_, Self>> {
            match v {
                FloatView::$variant(a) => Some(a),
                _ => None,
            }
        }
        fn to_float_array(a: ArrayD<Self>) -> FloatArray {
            FloatArray::$variant(a)
        }
        fn from_float_array(a: FloatArray) -> Option<ArrayD<Self>> {
            match a {
                FloatArray::$variant(a) => Some(a),
                _ => None,
            }
        }
    };
}

impl Real for f32 {
    fn lit(x: f64) -> Self {
        x as f32
    }
    fn to_f64_lossy(self) -> f64 {
        f64::from(self)
    }
    const NAME: &'static str = "f32";
    float_conversions!(F32);
}

impl Real for f64 {
    fn lit(x: f64) -> Self {
        x
    }
    fn to_f64_lossy(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
    float_conversions!(F64);
}

/// An element type of the arrays a model takes: the float type `T`, or
/// `usize` for ids (an embedding's input). Here, beside [`Real`], so that the
/// two implementations are known not to overlap (`usize` is no `Real`).
pub trait ArrayElem<T: Real>: Clone + 'static {
    /// Whether `Self` is the float type.
    const IS_FLOAT: bool;
    /// The array as floats, or as ids.
    fn as_float(a: ArrayD<Self>) -> Result<ArrayD<T>, ArrayD<usize>>;
    /// An array of floats as an array of `Self`, or the array back if `Self` is `usize`.
    fn from_float(a: ArrayD<T>) -> Result<ArrayD<Self>, ArrayD<T>>;
    /// An array of ids as an array of `Self`, or the array back if `Self` is the float type.
    fn from_ids(a: ArrayD<usize>) -> Result<ArrayD<Self>, ArrayD<usize>>;
    /// The view as a view of floats, if `Self` is the float type.
    fn float_view(a: ArrayViewD<'_, Self>) -> Option<ArrayViewD<'_, T>>;
}

impl<T: Real> ArrayElem<T> for T {
    const IS_FLOAT: bool = true;
    fn as_float(a: ArrayD<T>) -> Result<ArrayD<T>, ArrayD<usize>> {
        Ok(a)
    }
    fn from_float(a: ArrayD<T>) -> Result<ArrayD<T>, ArrayD<T>> {
        Ok(a)
    }
    fn from_ids(a: ArrayD<usize>) -> Result<ArrayD<T>, ArrayD<usize>> {
        Err(a)
    }
    fn float_view(a: ArrayViewD<'_, T>) -> Option<ArrayViewD<'_, T>> {
        Some(a)
    }
}

impl<T: Real> ArrayElem<T> for usize {
    const IS_FLOAT: bool = false;
    fn as_float(a: ArrayD<usize>) -> Result<ArrayD<T>, ArrayD<usize>> {
        Err(a)
    }
    fn from_float(a: ArrayD<T>) -> Result<ArrayD<usize>, ArrayD<T>> {
        Err(a)
    }
    fn from_ids(a: ArrayD<usize>) -> Result<ArrayD<usize>, ArrayD<usize>> {
        Ok(a)
    }
    fn float_view(_: ArrayViewD<'_, usize>) -> Option<ArrayViewD<'_, T>> {
        None
    }
}
