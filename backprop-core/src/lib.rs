//! Runtime of `backprop`. Most users depend on the facade crate `backprop`, which
//! re-exports everything here.
#![forbid(unsafe_code)]

extern crate self as backprop;

pub mod checkpoint;
pub mod data;
pub mod function;
pub mod gradcheck;
pub mod init;
pub mod layer;
pub mod layers;
pub mod losses;
pub mod model;
pub mod optim;
pub mod rng;
#[cfg(test)]
mod test_util;
pub mod train;

/// The kernels generated code calls: every op's forward and derivative kernel.
pub use backprop_kernels as ops;
pub use backprop_kernels::Real;
pub use function::{DynFunction, DynValue};
pub use gradcheck::{GradCheck, check_function, check_layer};
pub use layer::{Layer, Param, ParamMut, Parameters};
pub use ndarray;
pub use rng::SeededRng;
