//! Runtime monitors: opt-in measurements of the four ways backpropagation fails
//! silently, and the doctor that turns them into findings with advice.
//!
//! A [`Monitor`] attached to a [`Sequential`](crate::model::Sequential)
//! ([`Sequential::set_monitor`](crate::model::Sequential::set_monitor)) measures,
//! while [`train_step`](crate::train::train_step) and
//! [`train_epoch`](crate::train::train_epoch) run:
//!
//! - per layer whose output is a sigmoid or tanh ([`Layer::ACTIVATION`](crate::Layer::ACTIVATION)),
//!   the fraction of saturated units (local derivative below
//!   [`MonitorConfig::saturation_slope`] of its maximum) and a histogram;
//! - per ReLU layer, the fraction of units that never fired over a window of
//!   batches and over a pass through the data (dead), and the fraction that died
//!   during training;
//! - per parameter, the gradient norm and the ratio of the update's norm to the
//!   weight's (about 1e-3 is the classic rule of thumb);
//! - per recurrent layer, the gradient norm at each step of backpropagation
//!   through time, its growth per step, and the largest singular value of the
//!   recurrence matrix;
//! - the steps skipped for a non-finite gradient.
//!
//! Code that trains by hand feeds the same monitor: [`Monitor::next_step`],
//! [`Monitor::observe_activation`], [`Monitor::observe_gradients`] (or
//! [`Monitor::observe_gradient`] per array) and [`Monitor::observe_update`], [`Monitor::observe_through_time`] and, for a value
//! clip on the path to a loss, [`Monitor::observe_zeroed_by_clip`].
//!
//! Off (no monitor attached) nothing changes: the generated code is the same and
//! a model checks one `Option` per layer. On, each measurement is one pass over
//! an array the step already has, and the costlier ones (a copy of the weights
//! for the update ratio) run every [`MonitorConfig::param_every`] steps.
//!
//! [`Monitor::report`] gives the doctor's [`Report`]: a table, and JSON with a
//! stable schema ([`doctor`]). [`Monitor::write_plots`] draws SVG plots.
//!
//! ```
//! use backprop_core::data::spiral;
//! use backprop_core::layers::{Affine, Sigmoid};
//! use backprop_core::model::Sequential;
//! use backprop_core::monitor::{FindingKind, Monitor};
//! use backprop_core::optim::Sgd;
//! use backprop_core::train::{Target, train_step};
//! use backprop_core::{Parameters, SeededRng};
//!
//! // Weights 20 times too large: every sigmoid is pinned at 0 or 1.
//! let data = spiral::<f64>(50, 3, 0.2, 0);
//! let mut rng = SeededRng::new(0);
//! let mut model = Sequential::new();
//! model
//!     .push("fc1", Affine::new(2, 32, &mut rng))
//!     .push("sigmoid", Sigmoid::new())
//!     .push("fc2", Affine::new(32, 3, &mut rng));
//! model.visit_params(&mut |mut p| p.value.mapv_inplace(|w| 20.0 * w));
//! model.set_monitor(Monitor::default());
//! let mut sgd = Sgd::new(0.1);
//! for _ in 0..20 {
//!     train_step(&mut model, &mut sgd, &data.features, Target::Classes(data.labels.view()), None);
//! }
//! let report = model.monitor().unwrap().report();
//! assert!(report.has(FindingKind::Saturation, "sigmoid"), "{report}");
//! println!("{report}");
//! ```

mod activations;
pub mod doctor;
mod plot;
mod recurrence;

use std::io;
use std::path::{Path, PathBuf};

use ndarray::{ArrayRef, ArrayViewD, Dimension};

use crate::{Activation, Parameters, Real};

pub use activations::{ActivationStats, Histogram};
pub use doctor::{Finding, FindingKind, Report, Thresholds};
pub use recurrence::{GradientThroughTime, largest_singular_value, record_through_time};
pub(crate) use recurrence::{deliver, recording, squared_norm};

/// The power iterations the monitors spend on a recurrence matrix's largest
/// singular value: enough for two digits on the matrices of recurrent layers.
pub const POWER_ITERATIONS: usize = 20;

/// What a [`Monitor`] measures and how often.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorConfig {
    /// Activations are measured every this many steps (1: every step).
    pub activation_every: u64,
    /// Gradient norms and update ratios are measured every this many steps:
    /// the update ratio copies the weights.
    pub param_every: u64,
    /// A sigmoid or tanh unit is saturated where its local derivative is below
    /// this fraction of its maximum ([`Activation::relative_slope`]).
    pub saturation_slope: f64,
    /// The number of observed batches in a window (dead ReLUs, and the recent
    /// measurements the doctor judges by).
    pub window: usize,
    /// Bins of the activation histograms.
    pub histogram_bins: usize,
    /// What the doctor calls a finding.
    pub thresholds: Thresholds,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            activation_every: 1,
            param_every: 10,
            saturation_slope: 0.05,
            window: 20,
            histogram_bins: 20,
            thresholds: Thresholds::default(),
        }
    }
}

/// What a monitor measured of one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamStats {
    /// The parameter's name (`fc1.w`).
    pub name: String,
    /// The parameter's shape.
    pub shape: Vec<usize>,
    /// (step, L2 norm of the gradient), every [`MonitorConfig::param_every`] steps.
    pub grad_norm: Vec<(u64, f64)>,
    /// (step, norm of the update / norm of the weight before it), likewise;
    /// steps with a zero weight are left out.
    pub update_ratio: Vec<(u64, f64)>,
}

/// What a monitor measured at one recurrent layer.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrenceStats {
    /// The layer's name.
    pub layer: String,
    /// (step, what that step's backpropagation through time measured), per
    /// observed backward.
    pub records: Vec<(u64, GradientThroughTime)>,
}

/// What a monitor measured at a value clip on the path to a loss.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeroedStats {
    /// The name given to [`Monitor::observe_zeroed_by_clip`].
    pub site: String,
    /// (step, fraction of the samples whose gradient was exactly zero).
    pub zeroed: Vec<(u64, f64)>,
}

/// The measurements of a training run; see the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    config: MonitorConfig,
    step: u64,
    /// Per activation layer, in the order first seen.
    pub activations: Vec<ActivationStats>,
    /// Per parameter, in the model's order.
    pub params: Vec<ParamStats>,
    /// Per recurrent layer.
    pub recurrences: Vec<RecurrenceStats>,
    /// Per clip site.
    pub clips: Vec<ZeroedStats>,
    /// The steps whose gradient was NaN or infinite.
    pub non_finite_steps: Vec<u64>,
}

/// The entry of `list` that `is`, added by `new` if missing.
fn entry<S>(list: &mut Vec<S>, is: impl Fn(&S) -> bool, new: impl FnOnce() -> S) -> &mut S {
    let at = match list.iter().position(is) {
        Some(at) => at,
        None => {
            list.push(new());
            list.len() - 1
        }
    };
    &mut list[at]
}

/// The statistics of parameter `name`, added if missing.
fn param_stats<'a>(
    list: &'a mut Vec<ParamStats>,
    name: &str,
    shape: &[usize],
) -> &'a mut ParamStats {
    entry(
        list,
        |s| s.name == name,
        || ParamStats {
            name: name.to_string(),
            shape: shape.to_vec(),
            grad_norm: Vec::new(),
            update_ratio: Vec::new(),
        },
    )
}

impl Monitor {
    /// A monitor with `config`.
    pub fn new(config: MonitorConfig) -> Self {
        Monitor {
            config,
            ..Monitor::default()
        }
    }

    /// What it measures and how often.
    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// The current step: the number of [`Monitor::next_step`] calls.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Starts a training step (a model's training forward calls it).
    pub fn next_step(&mut self) {
        self.step += 1;
    }

    /// Whether activations are measured at this step.
    pub fn measures_activations(&self) -> bool {
        self.step
            .is_multiple_of(self.config.activation_every.max(1))
    }

    /// Whether gradient norms and update ratios are measured at this step.
    pub fn measures_params(&self) -> bool {
        self.step.is_multiple_of(self.config.param_every.max(1))
    }

    /// Takes the statistics of the output `y` (`[batch, ...]`) of layer `layer`,
    /// an activation `kind`, if activations are measured at this step.
    pub fn observe_activation<T: Real, D: Dimension>(
        &mut self,
        layer: &str,
        kind: Activation,
        y: &ArrayRef<T, D>,
    ) {
        if !self.measures_activations() {
            return;
        }
        let stats = entry(
            &mut self.activations,
            |s| s.layer == layer,
            || ActivationStats::new(layer, kind),
        );
        let y: ArrayViewD<'_, T> = y.view().into_dyn();
        stats.observe(&y, self.step, &self.config);
    }

    /// Records the gradient norm of every parameter of `params`, if parameters
    /// are measured at this step; call it after the backward, before clipping.
    pub fn observe_gradients<T: Real>(&mut self, params: &mut dyn Parameters<T>) {
        if !self.measures_params() {
            return;
        }
        params.visit_params(&mut |p| self.observe_gradient(p.name, &p.grad));
    }

    /// Records the norm of the gradient `grad` of the parameter `name`, if
    /// parameters are measured at this step: [`Monitor::observe_gradients`] for
    /// code that holds its gradients itself (a generated function's `_backward`).
    pub fn observe_gradient<T: Real, D: Dimension>(&mut self, name: &str, grad: &ArrayRef<T, D>) {
        if !self.measures_params() {
            return;
        }
        let step = self.step;
        let stats = param_stats(&mut self.params, name, grad.shape());
        stats.grad_norm.push((step, squared_norm(grad).sqrt()));
    }

    /// Runs `update` (an optimizer's step on `params`) and, if parameters are
    /// measured at this step, records the ratio of each parameter's change to its
    /// norm before the change.
    pub fn observe_update<T: Real, P: Parameters<T> + ?Sized>(
        &mut self,
        params: &mut P,
        update: impl FnOnce(&mut P),
    ) {
        if !self.measures_params() {
            update(params);
            return;
        }
        let mut before: Vec<Vec<f64>> = Vec::new();
        params
            .visit_params(&mut |p| before.push(p.value.iter().map(|v| v.to_f64_lossy()).collect()));
        update(params);
        let (step, stats) = (self.step, &mut self.params);
        let mut k = 0;
        params.visit_params(&mut |p| {
            let Some(old) = before.get(k) else { return };
            k += 1;
            let (mut change, mut weight) = (0.0, 0.0);
            for (&o, n) in old.iter().zip(p.value.iter()) {
                let d = n.to_f64_lossy() - o;
                change += d * d;
                weight += o * o;
            }
            let s = param_stats(stats, p.name, p.value.shape());
            if weight > 0.0 {
                s.update_ratio.push((step, (change / weight).sqrt()));
            }
        });
    }

    /// Records what a backward through time of recurrent layer `layer` measured.
    pub fn observe_through_time(&mut self, layer: &str, record: GradientThroughTime) {
        let step = self.step;
        let stats = entry(
            &mut self.recurrences,
            |s| s.layer == layer,
            || RecurrenceStats {
                layer: layer.to_string(),
                records: Vec::new(),
            },
        );
        stats.records.push((step, record));
    }

    /// Records, for a value clip (`clip`, `minimum`, `maximum`) on the path to a
    /// loss, the fraction of samples whose gradient `grad` (`[batch, ...]`: the
    /// gradient the loss's backward returns for its per-sample input) is exactly
    /// zero: the samples the clip stopped from contributing anything.
    pub fn observe_zeroed_by_clip<T: Real, D: Dimension>(
        &mut self,
        site: &str,
        grad: &ArrayRef<T, D>,
    ) {
        let grad = grad.view().into_dyn();
        let samples = grad.shape().first().copied().unwrap_or(1).max(1);
        let zeroed = if grad.ndim() == 0 {
            usize::from(grad.iter().all(|v| *v == T::zero()))
        } else {
            grad.outer_iter()
                .filter(|s| s.iter().all(|v| *v == T::zero()))
                .count()
        };
        let step = self.step;
        let stats = entry(
            &mut self.clips,
            |s| s.site == site,
            || ZeroedStats {
                site: site.to_string(),
                zeroed: Vec::new(),
            },
        );
        stats.zeroed.push((step, zeroed as f64 / samples as f64));
    }

    /// Records that this step's gradient was NaN or infinite.
    pub fn observe_non_finite(&mut self) {
        self.non_finite_steps.push(self.step);
    }

    /// Ends a pass through the data (the ReLU units dead over the whole pass);
    /// [`train_epoch`](crate::train::train_epoch) calls it.
    pub fn end_epoch(&mut self) {
        for stats in &mut self.activations {
            stats.end_epoch(self.step);
        }
    }

    /// The doctor's findings from what was measured so far.
    pub fn report(&self) -> Report {
        doctor::diagnose(self)
    }

    /// Writes SVG plots into `dir` (created if missing) and returns their paths:
    /// the activation histograms per layer (first and last observed batch), the
    /// gradient norm per parameter over training, and the gradient norm per time
    /// step of each recurrent layer.
    ///
    /// # Errors
    /// If the directory or a file cannot be written.
    pub fn write_plots(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        plot::write_all(self, dir)
    }
}
