//! The kernels generated code calls, and the [`Real`] float trait. Every op of the language has its forward
//! kernel here and, beside it, the kernel of its derivative rule.
//!
//! Kernels take operands as `&ArrayRef` (so owned arrays and views both work),
//! return owned arrays, and represent scalars as 0-d arrays. Kernels whose
//! operands can disagree in shape take a [`Site`] and panic with a
//! [`ShapeMismatch`] message that names the op, the source expression, its
//! location and both shapes.

#![forbid(unsafe_code)]

mod batched;
mod broadcast;
mod call;
mod conv;
#[cfg(any(test, feature = "dynamic"))]
pub mod dynamic;
pub mod elem;
mod elementwise;
mod fused;
mod gather;
mod guard;
mod index;
mod linalg;
pub mod math;
mod real;
mod reduce;
mod saved;
mod site;

pub use backprop_spec::{Compare, ELEMENTWISE, Elementwise, Param, Uses};
pub use batched::*;
pub use broadcast::*;
pub use call::{
    CallArg, CallSignature, CallSite, Callee, FloatKind, FnSignature, InputDesc, IntoResult, Kind,
    call_array, call_result, call_view, check_call, take, upstream, upstream_scalar,
};
pub use conv::*;
pub use elementwise::*;
pub use fused::*;
pub use gather::*;
pub use guard::{Origin, guard, non_finite_guard, set_non_finite_guard};
pub use index::*;
pub use linalg::*;
pub use ndarray::Axis;
pub use real::{ArrayElem, FloatArray, FloatView, Real};
pub use reduce::*;
pub use saved::{SavedArray, SavedElem, release_spare_buffers, save, spare_buffer_bytes};
pub use site::{ShapeMismatch, Site, check_not_lent, check_upstream, unavailable};
