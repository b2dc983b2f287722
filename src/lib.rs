//! backprop (facade; documentation being written).
#![forbid(unsafe_code)]
pub use backprop_core::*;
pub use backprop_macros::differentiable;

/// Everything a layer author needs in scope.
pub mod prelude {
    pub use crate::differentiable;
    pub use backprop_core::ndarray::{
        Array, Array0, Array1, Array2, Array3, Array4, ArrayView, ArrayView0, ArrayView1,
        ArrayView2, ArrayView3, ArrayView4, Axis, Ix0, Ix1, Ix2, Ix3, Ix4,
    };
    pub use backprop_core::{Layer, Param, Parameters, Real};
}
