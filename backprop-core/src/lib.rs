//! Runtime of `backprop`. Most users depend on the facade crate `backprop`, which
//! re-exports everything here.
#![forbid(unsafe_code)]

extern crate self as backprop;

pub mod checkpoint;
pub mod data;
pub mod function;
pub mod init;
pub mod layer;
pub mod ops;
pub mod optim;
mod real;
pub mod rng;

pub use function::{DynFunction, DynValue};
pub use layer::{Layer, Param, ParamMut, Parameters};
pub use ndarray;
pub use real::Real;
pub use rng::SeededRng;
