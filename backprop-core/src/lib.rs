//! Runtime of `backprop`. Most users depend on the facade crate `backprop`, which
//! re-exports everything here and has the guide.
//!
//! | module | what it has |
//! | --- | --- |
//! | [`layer`] | [`Param`], [`Parameters`], [`Layer`]: what generated layers implement |
//! | [`layers`] | the layer zoo, written with `#[differentiable]` where the language allows |
//! | [`losses`] | softmax cross-entropy, multiclass hinge, MSE, Huber, accuracy |
//! | [`model`] | [`model::Sequential`] over any array layer |
//! | [`monitor`] | opt-in runtime monitors and the doctor's findings about them |
//! | [`gradcheck`] | [`check_function`], [`check_layer`]: finite differences in f64 |
//! | [`init`], [`optim`], [`train`] | initialization, optimizers, clipping, schedules, the training loop |
//! | [`checkpoint`] | safetensors checkpoints, written atomically |
//! | [`data`] | the digits set (embedded), spirals, the adding problem, minibatches |
//! | [`ops`] | the kernels generated code calls, each beside its derivative kernel |
//! | [`function`] | [`DynFunction`], a generated function through dynamic ranks |
//! | [`rng`] | [`SeededRng`], the one source of randomness |
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
pub mod monitor;
pub mod optim;
pub mod rng;
#[cfg(test)]
mod test_util;
pub mod train;

/// The kernels generated code calls: every op's forward and derivative kernel.
pub use backprop_kernels as ops;
pub use backprop_kernels::Real;
/// `#[derive(Parameters)]`: the [`Parameters`] impl of a hand-written layer,
/// from its fields (the trait and the derive share the name, as serde's do).
pub use backprop_macros::Parameters;
pub use function::{DynFunction, DynValue};
pub use gradcheck::{
    GradCheck, assert_surrogate_shapes, check_against_derived, check_function, check_layer,
};
pub use layer::{Activation, Layer, Param, ParamMut, Parameters};
pub use ndarray;
pub use rng::SeededRng;
