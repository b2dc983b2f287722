//! Optimizers, gradient clipping and learning-rate schedules.
//!
//! An optimizer updates any [`Parameters`] from the gradients accumulated in them,
//! visiting them through [`Parameters::visit_params`] and keeping its state (momentum,
//! moment estimates) per parameter name. It never zeroes the gradients: call
//! [`Parameters::zero_grad`] before each backward pass.
//!
//! ```
//! use backprop_core::optim::{clip_grad_norm, Adam, CosineLr, LrSchedule, Optimizer};
//! use backprop_core::{Param, ParamMut, Parameters};
//! use ndarray::{array, Ix1};
//!
//! struct Point {
//!     x: Param<f64, Ix1>,
//! }
//!
//! impl Parameters<f64> for Point {
//!     fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, f64>)) {
//!         f(self.x.as_param_mut("x"));
//!     }
//! }
//!
//! let target = array![1.0, -1.0];
//! let mut model = Point { x: Param::new(array![0.0, 0.0]) };
//! let mut optimizer = Adam::new(0.1);
//! let schedule = CosineLr::new(0.1, 200).warmup(10);
//! for step in 0..200 {
//!     model.zero_grad();
//!     // The gradient of |x - target|².
//!     model.x.accumulate(&((&model.x.value - &target) * 2.0));
//!     clip_grad_norm(&mut model, 1.0);
//!     optimizer.set_learning_rate(schedule.lr(step));
//!     optimizer.step(&mut model);
//! }
//! assert!((&model.x.value - &target).iter().all(|d| d.abs() < 1e-2));
//! ```

mod adam;
mod clip;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

use ndarray::ArrayD;

use crate::{Parameters, Real};

pub use adam::{Adam, AdamW};
pub use clip::clip_grad_norm;
pub use rmsprop::RmsProp;
pub use schedule::{ConstantLr, CosineLr, LrSchedule, StepLr};
pub use sgd::{Momentum, Sgd};

/// Something that updates parameters from their accumulated gradients.
///
/// State is created lazily, per parameter name, on the first [`Optimizer::step`]
/// that sees the parameter. Stepping a parameter whose shape differs from the
/// shape its state was created with panics with a message naming it.
pub trait Optimizer<T: Real> {
    /// One update of every parameter from its accumulated gradient (does not zero the gradients).
    fn step(&mut self, params: &mut dyn Parameters<T>);

    /// The learning rate the next step uses.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate, for example from an [`LrSchedule`].
    fn set_learning_rate(&mut self, lr: f64);

    /// Named state tensors for checkpoints (e.g. "adam.m.fc1.w", "adam.t" as a 0-d or 1-element array).
    ///
    /// Hyperparameters (learning rate, betas) are configuration, not state, and are
    /// not included. Step counters are stored as `T`, exactly up to 2²⁴ steps in `f32`.
    fn state(&self) -> Vec<(String, ArrayD<T>)>;

    /// Restores state written by [`Optimizer::state`]. A missing, unexpected, duplicated
    /// or misshaped tensor is an [`OptimStateError`], never a panic.
    ///
    /// The loaded state replaces all current state; on error the current state is
    /// kept unchanged. Shapes are checked against the parameters on the next
    /// [`Optimizer::step`], which panics naming a parameter whose shape does not match.
    fn load_state(&mut self, state: Vec<(String, ArrayD<T>)>) -> Result<(), OptimStateError>;
}

/// Why [`Optimizer::load_state`] rejected a state.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimStateError {
    /// A tensor the optimizer needs is not in the state.
    #[error("optimizer state tensor `{0}` is missing")]
    Missing(String),
    /// A tensor this optimizer does not have (another optimizer's state, a misspelling).
    #[error("optimizer state tensor `{0}` is not part of this optimizer's state")]
    Unexpected(String),
    /// The same name appears more than once.
    #[error("optimizer state tensor `{0}` appears more than once")]
    Duplicate(String),
    /// A tensor has the wrong shape.
    #[error("optimizer state tensor `{name}` has shape {shape:?}, expected {expected}")]
    Shape {
        /// The tensor's name.
        name: String,
        /// The shape it has.
        shape: Vec<usize>,
        /// The shape it should have.
        expected: String,
    },
    /// A step counter that is not a non-negative whole number.
    #[error("optimizer state tensor `{name}` holds {value}, which is not a step count")]
    InvalidStepCount {
        /// The tensor's name.
        name: String,
        /// The value it holds.
        value: f64,
    },
}

#[cfg(test)]
mod testing {
    //! A two-parameter model whose gradients the tests set by hand.

    use ndarray::{Ix1, Ix2, array};

    use crate::{Param, ParamMut, Parameters};

    /// `w` (1×2) and `b` (1).
    #[derive(Clone, Debug, PartialEq)]
    pub(super) struct TwoParams {
        pub w: Param<f64, Ix2>,
        pub b: Param<f64, Ix1>,
    }

    impl TwoParams {
        /// `w = [[w0, w1]]`, `b = [b0]`, zero gradients.
        pub fn new([w0, w1, b0]: [f64; 3]) -> Self {
            TwoParams {
                w: Param::new(array![[w0, w1]]),
                b: Param::new(array![b0]),
            }
        }

        /// Replaces the gradients by `[[gw0, gw1]]` and `[gb0]`.
        pub fn set_grads(&mut self, [gw0, gw1, gb0]: [f64; 3]) {
            self.w.grad = array![[gw0, gw1]];
            self.b.grad = array![gb0];
        }

        /// `[w0, w1, b0]`.
        pub fn values(&self) -> [f64; 3] {
            [self.w.value[[0, 0]], self.w.value[[0, 1]], self.b.value[0]]
        }

        /// `[gw0, gw1, gb0]`.
        pub fn grads(&self) -> [f64; 3] {
            [self.w.grad[[0, 0]], self.w.grad[[0, 1]], self.b.grad[0]]
        }
    }

    impl Parameters<f64> for TwoParams {
        fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, f64>)) {
            f(self.w.as_param_mut("w"));
            f(self.b.as_param_mut("b"));
        }
    }

    /// Element-wise equality within 1e-12.
    #[track_caller]
    pub fn assert_close(actual: [f64; 3], expected: [f64; 3]) {
        let close = actual
            .iter()
            .zip(&expected)
            .all(|(a, e)| (a - e).abs() < 1e-12);
        assert!(close, "got {actual:?}, expected {expected:?}");
    }
}
