//! The float types a differentiable function can be instantiated with.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};
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
    + 'static
{
    /// The value of an `f64` literal in this type (rounded for `f32`).
    fn lit(x: f64) -> Self;
    /// This value widened (or kept) as `f64`.
    fn to_f64_lossy(self) -> f64;
    /// The name of the type as written in Rust (`"f32"` or `"f64"`).
    const NAME: &'static str;
}

impl Real for f32 {
    fn lit(x: f64) -> Self {
        x as f32
    }
    fn to_f64_lossy(self) -> f64 {
        f64::from(self)
    }
    const NAME: &'static str = "f32";
}

impl Real for f64 {
    fn lit(x: f64) -> Self {
        x
    }
    fn to_f64_lossy(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
}
