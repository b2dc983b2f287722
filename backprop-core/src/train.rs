//! The training loop: one optimization step, one epoch over shuffled minibatches,
//! evaluation, and checkpoints that carry the optimizer's state.
//!
//! A step is always the same sequence: zero the gradients, run the model's training
//! forward, compute the loss and its gradient, run the backward, clip the gradients
//! by their global norm (if asked), and let the optimizer update the parameters.
//! A [`Monitor`] attached to the model ([`Sequential::set_monitor`], or
//! [`EpochOptions::monitor`]) watches every step; its
//! [`report`](Monitor::report) is the doctor's.
//! [`train_step`] does exactly that for one batch; [`train_epoch`] runs it over
//! the minibatches of a classification data set; [`evaluate`] measures a model in
//! evaluation mode.
//!
//! ```
//! use backprop_core::data::spiral;
//! use backprop_core::layers::{Affine, Relu};
//! use backprop_core::model::Sequential;
//! use backprop_core::optim::Adam;
//! use backprop_core::train::{evaluate, shuffle_rng, train_epoch, EpochOptions};
//! use backprop_core::SeededRng;
//!
//! let data = spiral::<f32>(100, 3, 0.2, 0);
//! let mut rng = SeededRng::new(0);
//! let mut model = Sequential::new();
//! model
//!     .push("fc1", Affine::new(2, 32, &mut rng))
//!     .push("relu", Relu::new())
//!     .push("fc2", Affine::new(32, 3, &mut rng));
//! let mut optimizer = Adam::new(0.02);
//! let options = EpochOptions::new(30);
//! for epoch in 0..40 {
//!     // A shuffle drawn from the seed and the epoch, so a resumed run shuffles alike.
//!     let mut shuffle = shuffle_rng(0, epoch);
//!     let stats = train_epoch(&mut model, &mut optimizer, &data.features, &data.labels,
//!                             &options, &mut shuffle, &mut |_| {});
//!     assert!(stats.loss.is_finite());
//! }
//! let test = evaluate(&model, &data.features, &data.labels, 100);
//! assert!(test.accuracy > 0.8, "{test:?}");
//! ```
//!
//! # Reproducibility
//!
//! Nothing here draws randomness except through the [`SeededRng`] given to
//! [`train_epoch`], and every kernel is deterministic: the same model, optimizer,
//! data and generator give bit-identical parameters. To resume a run from a
//! checkpoint ([`save_training_checkpoint`], [`load_training_checkpoint`]) and get
//! the same result as an uninterrupted run, draw each epoch's generator from the
//! seed and the epoch number ([`shuffle_rng`]) rather than carrying one generator
//! across epochs.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array2, ArrayRef, ArrayRef1, ArrayView1, ArrayView2, Dimension, Ix2, RemoveAxis};

use crate::checkpoint::{
    CheckpointError, EXTRA_PREFIX, LoadOptions, prepare_load, save_checkpoint,
};
use crate::data::{LastBatch, Minibatches, gather_rows};
use crate::losses::{
    mse_backward, mse_train, predicted_classes, softmax_cross_entropy,
    softmax_cross_entropy_backward, softmax_cross_entropy_train,
};
use crate::model::{ArrayElem, Sequential};
use crate::monitor::Monitor;
use crate::optim::{OptimStateError, Optimizer, clip_grad_norm};
use crate::{Parameters, Real, SeededRng};

/// What a batch is trained towards; it also picks the loss.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a, T> {
    /// One class per row of the output (`[batch]`): the output holds scores
    /// `[batch, classes]` and the loss is
    /// [`softmax_cross_entropy`].
    Classes(ArrayView1<'a, usize>),
    /// Values of the output's shape (`[batch, outputs]`): the loss is the mean
    /// squared error [`mse`](crate::losses::mse).
    Values(ArrayView2<'a, T>),
}

impl<T: Real> Target<'_, T> {
    /// The loss of `output` and its gradient with respect to `output`, from the
    /// generated `_train` and `_backward` of the loss.
    ///
    /// # Panics
    /// If the target does not fit the output (one label per row, or the output's shape).
    pub fn loss_and_grad(&self, output: ArrayView2<'_, T>) -> (T, Array2<T>) {
        match self {
            Target::Classes(labels) => {
                let (loss, saved) = softmax_cross_entropy_train(output, labels.view());
                (
                    loss,
                    softmax_cross_entropy_backward(&saved, T::one()).scores,
                )
            }
            Target::Values(values) => {
                let (loss, saved) = mse_train(output, values.view());
                (loss, mse_backward(&saved, T::one()).pred)
            }
        }
    }

    /// The number of rows of `output` whose highest score is at the label, for
    /// [`Target::Classes`]; `None` for [`Target::Values`].
    pub fn correct(&self, output: ArrayView2<'_, T>) -> Option<usize> {
        match self {
            Target::Classes(labels) => Some(
                predicted_classes(&output)
                    .iter()
                    .zip(labels)
                    .filter(|(p, y)| p == y)
                    .count(),
            ),
            Target::Values(_) => None,
        }
    }
}

/// A scalar loss of a model's `[batch, outputs]` output, for [`train_step`]: its
/// value (the mean over the batch) and its gradient with respect to the output.
///
/// [`Target`] is one (softmax cross-entropy or MSE); so is any closure
/// `Fn(ArrayView2<T>) -> (T, Array2<T>)`, which is how a user's own
/// `#[differentiable]` loss goes in:
///
/// ```
/// # extern crate backprop_core as backprop;
/// use backprop_core::ndarray::{Array2, ArrayView1, ArrayView2};
/// use backprop_core::Real;
/// use backprop_macros::differentiable;
///
/// /// Cross-entropy with label smoothing `eps`.
/// #[differentiable]
/// fn smoothed_ce<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>, #[no_grad] eps: T) -> T {
///     let logp = log_softmax(scores, Axis(1));
///     let nll = -pick(logp, &labels).mean();
///     let uniform = -logp.mean_axis(Axis(1)).mean();
///     nll * (1.0 - eps) + uniform * eps
/// }
///
/// fn loss<'a>(labels: ArrayView1<'a, usize>) -> impl Fn(ArrayView2<f32>) -> (f32, Array2<f32>) + 'a {
///     move |scores| {
///         let (value, saved) = smoothed_ce_train(scores, labels.view(), 0.1);
///         (value, smoothed_ce_backward(&saved, 1.0).scores)
///     }
/// }
/// # let labels = backprop_core::ndarray::array![0usize, 1];
/// # let (l, d) = loss(labels.view())(Array2::zeros((2, 3)).view());
/// # assert!((l - 3f32.ln()).abs() < 1e-6 && d.shape() == [2, 3]);
/// ```
///
/// [`train_step`] with such a closure keeps what it does for the built-in
/// losses: clipping by global norm, skipping a step whose gradient is not
/// finite, and the monitor's measurements.
pub trait Loss<T: Real> {
    /// The loss of `output` and its gradient with respect to `output`.
    ///
    /// # Panics
    /// May panic if the loss does not fit the output (its implementations say when).
    fn loss_and_grad(&self, output: ArrayView2<'_, T>) -> (T, Array2<T>);

    /// The number of rows of `output` predicted correctly, for classification
    /// losses that know the labels; `None` (the default) otherwise.
    fn correct(&self, output: ArrayView2<'_, T>) -> Option<usize> {
        let _ = output;
        None
    }
}

impl<T: Real> Loss<T> for Target<'_, T> {
    fn loss_and_grad(&self, output: ArrayView2<'_, T>) -> (T, Array2<T>) {
        Target::loss_and_grad(self, output)
    }

    fn correct(&self, output: ArrayView2<'_, T>) -> Option<usize> {
        Target::correct(self, output)
    }
}

impl<T: Real, F> Loss<T> for F
where
    F: Fn(ArrayView2<'_, T>) -> (T, Array2<T>),
{
    fn loss_and_grad(&self, output: ArrayView2<'_, T>) -> (T, Array2<T>) {
        self(output)
    }
}

/// A [`Loss`] with the labels it is about: [`Loss::correct`] counts the rows
/// whose highest score is at their label. What [`train_epoch_with`] builds for
/// each batch.
pub struct Labelled<'a, L> {
    /// The loss.
    pub loss: L,
    /// One class per row of the output.
    pub labels: ArrayView1<'a, usize>,
}

impl<T: Real, L: Loss<T>> Loss<T> for Labelled<'_, L> {
    fn loss_and_grad(&self, output: ArrayView2<'_, T>) -> (T, Array2<T>) {
        self.loss.loss_and_grad(output)
    }

    fn correct(&self, output: ArrayView2<'_, T>) -> Option<usize> {
        Target::<T>::Classes(self.labels).correct(output)
    }
}

/// What one [`train_step`] measured, before the update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// The batch's loss (the mean over the batch).
    pub loss: f64,
    /// The global L2 norm of the gradients, before clipping.
    pub grad_norm: f64,
    /// For [`Target::Classes`], the rows of the batch classified correctly.
    pub correct: Option<usize>,
    /// The number of examples in the batch.
    pub examples: usize,
    /// Whether the optimizer updated the parameters: `false` when the gradient
    /// norm was NaN or infinite, in which case the parameters are left unchanged.
    pub updated: bool,
}

/// One optimization step of `model` on the batch `x` (examples along the axis the
/// model expects them: axis 0 for features and images, axis 1 for `[time, batch,
/// features]` sequences): zero the gradients, training forward, the loss and its
/// gradient ([`Loss::loss_and_grad`]: a [`Target`], or any loss of your own),
/// backward, clip the gradients to a global norm of at most `clip_norm` if it is
/// given ([`clip_grad_norm`]), and update.
///
/// The forward is the model's training forward ([`Sequential::forward_train`]). If the gradient norm is NaN or infinite
/// the update is skipped (see [`StepStats::updated`]), so one bad batch cannot turn
/// every parameter into NaN.
///
/// # Panics
/// If the model's output is not 2-D, the target does not fit it, or `clip_norm` is
/// negative.
pub fn train_step<T: Real, A: ArrayElem<T>, D: Dimension>(
    model: &mut Sequential<T>,
    optimizer: &mut dyn Optimizer<T>,
    x: &ArrayRef<A, D>,
    target: impl Loss<T>,
    clip_norm: Option<f64>,
) -> StepStats {
    model.zero_grad();
    let output = into_2d(model.forward_train(x));
    let (loss, d_output) = target.loss_and_grad(output.view());
    let correct = target.correct(output.view());
    model.backward_params(&d_output);
    let mut monitor = model.monitor.take();
    if let Some(monitor) = &mut monitor {
        monitor.observe_gradients(model);
    }
    let grad_norm = clip_grad_norm(model, clip_norm.unwrap_or(f64::INFINITY));
    let updated = grad_norm.is_finite();
    match (&mut monitor, updated) {
        (Some(monitor), true) => monitor.observe_update(model, |model| optimizer.step(model)),
        (Some(monitor), false) => monitor.observe_non_finite(),
        (None, true) => optimizer.step(model),
        (None, false) => {}
    }
    model.monitor = monitor;
    StepStats {
        loss: loss.to_f64_lossy(),
        grad_norm,
        correct,
        examples: output.nrows(),
        updated,
    }
}

/// How [`train_epoch`] cuts and treats the batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochOptions {
    /// Examples per batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// If given, the largest global gradient norm ([`clip_grad_norm`]).
    pub clip_norm: Option<f64>,
    /// Whether to watch training with a [`Monitor`] (attaching a default one if the
    /// model has none); read the doctor's findings from
    /// [`Sequential::monitor`] and [`Monitor::report`].
    pub monitor: bool,
}

impl EpochOptions {
    /// Batches of `batch_size` examples, no clipping.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    pub fn new(batch_size: usize) -> Self {
        assert!(batch_size > 0, "the batch size must be at least 1");
        EpochOptions {
            batch_size,
            clip_norm: None,
            monitor: false,
        }
    }

    /// Watches training with the runtime monitors: attaches a default [`Monitor`]
    /// to the model unless it has one. After training,
    /// `model.monitor().unwrap().report()` is the doctor's report.
    pub fn monitor(self) -> Self {
        EpochOptions {
            monitor: true,
            ..self
        }
    }

    /// Clips the gradients of every step to a global norm of at most `max_norm`.
    pub fn clip_norm(self, max_norm: f64) -> Self {
        EpochOptions {
            clip_norm: Some(max_norm),
            ..self
        }
    }
}

/// Loss and accuracy over a pass through a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// The mean loss per example.
    pub loss: f64,
    /// The fraction of examples classified correctly.
    pub accuracy: f64,
    /// The number of examples seen.
    pub examples: usize,
    /// The number of batches (optimization steps, for [`train_epoch`]).
    pub batches: usize,
    /// For [`train_epoch`], the steps skipped for a non-finite gradient norm
    /// ([`StepStats::updated`]); 0 for [`evaluate`].
    pub skipped: usize,
}

/// Sums of per-batch figures, turned into an [`EpochStats`].
#[derive(Default)]
struct Tally {
    loss_sum: f64,
    correct: usize,
    examples: usize,
    batches: usize,
    skipped: usize,
}

impl Tally {
    fn add(&mut self, loss: f64, correct: usize, examples: usize, updated: bool) {
        self.loss_sum += loss * examples as f64;
        self.correct += correct;
        self.examples += examples;
        self.batches += 1;
        self.skipped += usize::from(!updated);
    }

    fn stats(&self) -> EpochStats {
        let n = self.examples as f64;
        EpochStats {
            loss: self.loss_sum / n,
            accuracy: self.correct as f64 / n,
            examples: self.examples,
            batches: self.batches,
            skipped: self.skipped,
        }
    }
}

/// A classification loss for [`train_epoch_with`]: from a batch's scores
/// `[batch, classes]` and labels `[batch]`, the mean loss and the gradient of
/// the scores.
pub type ClassLoss<T> = dyn Fn(ArrayView2<'_, T>, ArrayView1<'_, usize>) -> (T, Array2<T>);

/// [`train_epoch`] with another loss than softmax cross-entropy: `loss` gives the
/// loss of a batch's scores for its labels and the gradient of the scores (a
/// user's own `#[differentiable]` loss, say focal or label-smoothed
/// cross-entropy). The accuracy counts the rows whose highest score is at their
/// label.
///
/// # Panics
/// As [`train_epoch`].
#[allow(clippy::too_many_arguments)]
pub fn train_epoch_with<T: Real, A: ArrayElem<T>, D: RemoveAxis>(
    model: &mut Sequential<T>,
    optimizer: &mut dyn Optimizer<T>,
    inputs: &ArrayRef<A, D>,
    labels: &ArrayRef1<usize>,
    options: &EpochOptions,
    rng: &mut SeededRng,
    loss: &ClassLoss<T>,
    on_batch: &mut dyn FnMut(&StepStats),
) -> EpochStats {
    let n = check_examples(inputs, labels);
    if options.monitor && model.monitor().is_none() {
        model.set_monitor(Monitor::default());
    }
    let mut tally = Tally::default();
    for batch in Minibatches::shuffled(n, options.batch_size, LastBatch::Keep, rng) {
        let x = gather_rows(inputs, &batch);
        let y = gather_rows(labels, &batch);
        let batch_loss = Labelled {
            loss: |scores: ArrayView2<'_, T>| loss(scores, y.view()),
            labels: y.view(),
        };
        let step = train_step(model, optimizer, &x, batch_loss, options.clip_norm);
        on_batch(&step);
        tally.add(
            step.loss,
            step.correct.unwrap_or(0),
            step.examples,
            step.updated,
        );
    }
    if let Some(monitor) = model.monitor_mut() {
        monitor.end_epoch();
    }
    tally.stats()
}

/// One epoch of classification training: the examples of `inputs` (along axis 0:
/// feature rows `[n, features]` or images `[n, channels, h, w]`) with their
/// `labels`, in minibatches shuffled by `rng` (the last one kept even if smaller),
/// one [`train_step`] each, with softmax cross-entropy ([`train_epoch_with`]
/// takes any loss). `on_batch` sees each step's [`StepStats`] (for a
/// progress bar).
///
/// The loss and accuracy returned are running figures: each batch is measured
/// with the parameters it was trained from, as training goes.
///
/// # Panics
/// If there is not one label per example, `inputs` is empty, or as [`train_step`].
pub fn train_epoch<T: Real, A: ArrayElem<T>, D: RemoveAxis>(
    model: &mut Sequential<T>,
    optimizer: &mut dyn Optimizer<T>,
    inputs: &ArrayRef<A, D>,
    labels: &ArrayRef1<usize>,
    options: &EpochOptions,
    rng: &mut SeededRng,
    on_batch: &mut dyn FnMut(&StepStats),
) -> EpochStats {
    let cross_entropy = |scores: ArrayView2<'_, T>, labels: ArrayView1<'_, usize>| {
        Target::Classes(labels).loss_and_grad(scores)
    };
    train_epoch_with(
        model,
        optimizer,
        inputs,
        labels,
        options,
        rng,
        &cross_entropy,
        on_batch,
    )
}

/// The mean softmax cross-entropy and the accuracy of `model` in evaluation mode
/// ([`Sequential::predict`], whatever the model's mode) on `inputs` (examples
/// along axis 0) and `labels`, `batch_size` examples at a time to bound memory.
///
/// # Panics
/// If there is not one label per example, `inputs` is empty, `batch_size` is 0,
/// or the model's output is not `[batch, classes]` scores.
pub fn evaluate<T: Real, A: ArrayElem<T>, D: RemoveAxis>(
    model: &Sequential<T>,
    inputs: &ArrayRef<A, D>,
    labels: &ArrayRef1<usize>,
    batch_size: usize,
) -> EpochStats {
    let n = check_examples(inputs, labels);
    let mut tally = Tally::default();
    for batch in Minibatches::in_order(n, batch_size, LastBatch::Keep) {
        let scores = into_2d(model.predict(&gather_rows(inputs, &batch)));
        let y = gather_rows(labels, &batch);
        let loss = softmax_cross_entropy(scores.view(), y.view()).to_f64_lossy();
        let correct = Target::<T>::Classes(y.view()).correct(scores.view());
        tally.add(loss, correct.unwrap_or(0), batch.len(), true);
    }
    tally.stats()
}

/// The number of examples, checked against the labels.
fn check_examples<T, D: Dimension>(inputs: &ArrayRef<T, D>, labels: &ArrayRef1<usize>) -> usize {
    let n = inputs.shape().first().copied().unwrap_or(0);
    assert_eq!(
        n,
        labels.len(),
        "{n} examples (inputs of shape {:?}) but {} labels",
        inputs.shape(),
        labels.len()
    );
    assert!(n > 0, "no examples to train or evaluate on");
    n
}

/// The model's output as `[batch, outputs]`.
fn into_2d<T: Real>(output: ndarray::ArrayD<T>) -> Array2<T> {
    let shape = output.shape().to_vec();
    output.into_dimensionality::<Ix2>().unwrap_or_else(|_| {
        panic!("training needs a 2-D model output [batch, outputs], got shape {shape:?}")
    })
}

/// The generator for the shuffle of epoch `epoch` (counting from 0) of a run with
/// seed `seed`: drawn from both, so that each epoch has its own order, a run
/// resumed at any epoch shuffles like an uninterrupted one, and the stream differs
/// from `SeededRng::new(seed)` (which a run typically uses to initialize its model).
pub fn shuffle_rng(seed: u64, epoch: u64) -> SeededRng {
    let base = SeededRng::new(seed).next_u64();
    SeededRng::new(base.wrapping_add(epoch))
}

/// Why [`load_training_checkpoint`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// The file could not be read, or does not fit the model.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The optimizer state in the file does not fit the optimizer.
    #[error("optimizer state in the checkpoint: {0}")]
    OptimizerState(#[from] OptimStateError),
}

/// Saves `model` and `optimizer`'s state ([`Optimizer::state`], each name prefixed
/// with [`EXTRA_PREFIX`], `optim.`) with `metadata` to `path`, atomically; see
/// [`save_checkpoint`]. [`load_training_checkpoint`] restores both.
pub fn save_training_checkpoint<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    optimizer: &dyn Optimizer<T>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let extra: Vec<_> = optimizer
        .state()
        .into_iter()
        .map(|(name, tensor)| (format!("{EXTRA_PREFIX}{name}"), tensor))
        .collect();
    save_checkpoint(path, model, &extra, metadata)
}

/// Restores `model` and `optimizer` from a checkpoint written by
/// [`save_training_checkpoint`], and returns its metadata. All or nothing: the
/// file is read and checked against both (the model's tensors, then the
/// optimizer's state) before either changes, so on error both are as they were.
/// Errors name tensors as the file does (`optim.adam.m.fc1.w`). Tensors with NaN
/// or infinite values are refused; [`load_training_checkpoint_with`] takes
/// [`LoadOptions`] to accept them.
pub fn load_training_checkpoint<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    optimizer: &mut dyn Optimizer<T>,
) -> Result<BTreeMap<String, String>, ResumeError> {
    load_training_checkpoint_with(path, model, optimizer, &LoadOptions::default())
}

/// [`load_training_checkpoint`] with [`LoadOptions`].
pub fn load_training_checkpoint_with<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    optimizer: &mut dyn Optimizer<T>,
    options: &LoadOptions,
) -> Result<BTreeMap<String, String>, ResumeError> {
    let prepared = prepare_load(path, model, options)?;
    let state = prepared
        .extra()
        .iter()
        .map(|(name, tensor)| {
            let name = name.strip_prefix(EXTRA_PREFIX).unwrap_or(name);
            (name.to_owned(), tensor.clone())
        })
        .collect();
    // The optimizer keeps its state on error; the model is written only after.
    optimizer.load_state(state).map_err(named_as_in_file)?;
    Ok(prepared.apply(model).metadata)
}

/// An optimizer's error with the tensor named as the file names it
/// (`optim.adam.m.fc1.w`, not the optimizer's `adam.m.fc1.w`).
fn named_as_in_file(e: OptimStateError) -> OptimStateError {
    let file = |name: String| format!("{EXTRA_PREFIX}{name}");
    match e {
        OptimStateError::Missing(name) => OptimStateError::Missing(file(name)),
        OptimStateError::Unexpected(name) => OptimStateError::Unexpected(file(name)),
        OptimStateError::Duplicate(name) => OptimStateError::Duplicate(file(name)),
        OptimStateError::Shape {
            name,
            shape,
            expected,
        } => OptimStateError::Shape {
            name: file(name),
            shape,
            expected,
        },
        OptimStateError::InvalidStepCount { name, value } => OptimStateError::InvalidStepCount {
            name: file(name),
            value,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{adding_problem, spiral};
    use crate::layers::{Affine, LastStep, Lstm, Relu};
    use crate::optim::{Adam, Sgd};
    use backprop_macros::differentiable;
    use ndarray::{Array1, ArrayView1, ArrayView2, Ix2, array};

    fn mlp(seed: u64) -> Sequential<f64> {
        let mut rng = SeededRng::new(seed);
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::new(2, 16, &mut rng))
            .push("relu", Relu::new())
            .push("fc2", Affine::new(16, 3, &mut rng));
        model
    }

    fn params(model: &mut Sequential<f64>) -> Vec<f64> {
        let mut all = Vec::new();
        model.visit_params(&mut |p| all.extend(p.value.iter().copied()));
        all
    }

    /// Focal loss (Lin et al., 2017) with gamma = 2: cross-entropy weighted by
    /// `(1 - p)^2`, so that examples already classified well count less.
    #[differentiable]
    fn focal_loss<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
        let logp = pick(log_softmax(scores, Axis(1)), &labels);
        -((1.0 - exp(logp)).square() * logp).mean()
    }

    fn focal(scores: ArrayView2<'_, f64>, labels: ArrayView1<'_, usize>) -> (f64, Array2<f64>) {
        let (loss, saved) = focal_loss_train(scores, labels);
        (loss, focal_loss_backward(&saved, 1.0).scores)
    }

    #[test]
    fn a_users_own_loss_trains_with_clipping_and_skip_on_nan() {
        let data = spiral::<f64>(60, 3, 0.1, 0);
        let mut model = mlp(0);
        let mut adam = Adam::new(0.02);
        let options = EpochOptions::new(30).clip_norm(1.0);
        let mut first = None;
        let mut last = None;
        for epoch in 0..60 {
            let mut rng = shuffle_rng(0, epoch);
            let stats = train_epoch_with(
                &mut model,
                &mut adam,
                &data.features,
                &data.labels,
                &options,
                &mut rng,
                &focal,
                &mut |step| assert!(step.grad_norm.is_finite()),
            );
            first.get_or_insert(stats);
            last = Some(stats);
        }
        let (first, last) = (first.unwrap(), last.unwrap());
        assert!(last.loss < 0.5 * first.loss, "{first:?} -> {last:?}");
        let test = evaluate(&model, &data.features, &data.labels, 100);
        assert!(test.accuracy > 0.8, "{test:?}");
        // A loss whose gradient is NaN: the step is skipped and nothing changes.
        let mut before = Vec::new();
        model.visit_params(&mut |p| before.extend(p.value.iter().copied()));
        let nan_loss = |s: ArrayView2<'_, f64>| (f64::NAN, s.mapv(|_| f64::NAN));
        let step = train_step(&mut model, &mut adam, &data.features, nan_loss, Some(1.0));
        assert!(!step.updated);
        let mut after = Vec::new();
        model.visit_params(&mut |p| after.extend(p.value.iter().copied()));
        assert_eq!(before, after);
        // Through train_step, a closure's loss is used as it is: here half the MSE.
        let target = Array2::<f64>::zeros((data.features.nrows(), 3));
        let half_mse = |s: ArrayView2<'_, f64>| {
            let (l, g) = Target::Values(target.view()).loss_and_grad(s);
            (l / 2.0, g / 2.0)
        };
        let step = train_step(
            &mut model,
            &mut Sgd::new(0.0),
            &data.features,
            half_mse,
            None,
        );
        let output = model.predict_as::<Ix2>(&data.features);
        let mse = crate::losses::mse(output.view(), target.view());
        assert!(
            (step.loss - mse / 2.0).abs() < 1e-12 * mse,
            "{} vs {}",
            step.loss,
            mse / 2.0
        );
        assert_eq!(step.correct, None);
    }

    #[test]
    fn the_monitor_option_attaches_a_monitor_that_sees_every_step() {
        let data = spiral::<f64>(20, 3, 0.2, 0);
        let train = |options: EpochOptions| {
            let mut model = mlp(0);
            let mut sgd = Sgd::new(0.1);
            for epoch in 0..2 {
                let (x, y) = (&data.features, &data.labels);
                train_epoch(
                    &mut model,
                    &mut sgd,
                    x,
                    y,
                    &options,
                    &mut shuffle_rng(0, epoch),
                    &mut |_| {},
                );
            }
            model
        };
        let mut model = train(EpochOptions::new(10).monitor());
        let monitor = model.monitor().expect("attached by the option");
        assert_eq!(monitor.step(), 12, "6 batches per epoch");
        assert_eq!(monitor.activations[0].layer, "relu");
        assert_eq!(monitor.activations[0].dead_in_epoch.len(), 2);
        let names: Vec<&str> = monitor.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["fc1.w", "fc1.b", "fc2.w", "fc2.b"]);
        // Every 10 steps: only step 10 within 12 steps.
        assert_eq!(monitor.params[0].grad_norm.len(), 1);
        assert_eq!(monitor.params[0].update_ratio.len(), 1);
        // The same run without a monitor gives the same parameters, bit for bit.
        let mut plain = train(EpochOptions::new(10));
        assert!(plain.monitor().is_none());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        model.visit_params(&mut |p| a.extend(p.value.iter().copied()));
        plain.visit_params(&mut |p| b.extend(p.value.iter().copied()));
        assert_eq!(a, b);
    }

    #[test]
    fn a_step_is_the_forward_loss_backward_and_update_by_hand() {
        let data = spiral::<f64>(5, 3, 0.2, 1);
        let mut model = mlp(0);
        let mut by_hand = mlp(0);
        let target = Target::Classes(data.labels.view());
        let stats = train_step(&mut model, &mut Sgd::new(0.1), &data.features, target, None);

        by_hand.zero_grad();
        let scores = by_hand.forward_train_as::<Ix2>(&data.features);
        let (loss, saved) = softmax_cross_entropy_train(scores.view(), data.labels.view());
        by_hand.backward(&softmax_cross_entropy_backward(&saved, 1.0).scores);
        let norm = clip_grad_norm(&mut by_hand, f64::INFINITY);
        Sgd::new(0.1).step(&mut by_hand);

        assert_eq!(stats.loss, loss);
        assert_eq!(stats.grad_norm, norm);
        assert_eq!(stats.examples, 15);
        assert!(stats.updated);
        assert_eq!(
            stats.correct,
            Some((crate::losses::accuracy(&scores, &data.labels) * 15.0).round() as usize)
        );
        assert_eq!(params(&mut model), params(&mut by_hand));
    }

    #[test]
    fn stale_gradients_are_cleared_and_clipping_bounds_the_update() {
        let data = spiral::<f64>(5, 3, 0.2, 1);
        let target = Target::Classes(data.labels.view());
        let mut clean = mlp(0);
        let mut stale = mlp(0);
        stale.visit_params(&mut |mut p| p.grad.fill(1e6));
        let a = train_step(&mut clean, &mut Sgd::new(0.1), &data.features, target, None);
        let b = train_step(&mut stale, &mut Sgd::new(0.1), &data.features, target, None);
        assert_eq!(a, b);
        assert_eq!(params(&mut clean), params(&mut stale));

        // Clipped to 1e-3: every parameter moves by at most lr * 1e-3.
        let mut clipped = mlp(0);
        let before = params(&mut clipped);
        let c = train_step(
            &mut clipped,
            &mut Sgd::new(0.1),
            &data.features,
            target,
            Some(1e-3),
        );
        assert_eq!(
            c.grad_norm, a.grad_norm,
            "the norm is reported before clipping"
        );
        let moved: f64 = params(&mut clipped)
            .iter()
            .zip(&before)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(moved <= 0.1 * 1e-3 * (1.0 + 1e-9), "{moved}");
    }

    #[test]
    fn a_non_finite_gradient_skips_the_update() {
        let mut model = mlp(0);
        let before = params(&mut model);
        let x = array![[f64::NAN, 0.0]];
        let labels = array![1usize];
        let stats = train_step(
            &mut model,
            &mut Sgd::new(0.1),
            &x,
            Target::Classes(labels.view()),
            None,
        );
        assert!(!stats.updated && stats.grad_norm.is_nan());
        assert_eq!(params(&mut model), before);
    }

    #[test]
    fn regression_steps_train_a_sequence_model() {
        let mut rng = SeededRng::new(3);
        let mut model = Sequential::new();
        model
            .push("lstm", Lstm::new(2, 8, &mut rng))
            .push("last", LastStep::new())
            .push("fc", Affine::new(8, 1, &mut rng));
        let mut optimizer = Adam::new(0.01);
        let batch = adding_problem::<f64>(16, 6, 0);
        let target = Target::Values(batch.targets.view());
        let first = train_step(&mut model, &mut optimizer, &batch.inputs, target, Some(1.0));
        assert_eq!((first.examples, first.correct), (16, None));
        for _ in 0..30 {
            train_step(&mut model, &mut optimizer, &batch.inputs, target, Some(1.0));
        }
        let last = train_step(&mut model, &mut optimizer, &batch.inputs, target, Some(1.0));
        assert!(last.loss < first.loss / 2.0, "{first:?} {last:?}");
    }

    #[test]
    fn epochs_are_reproducible_and_learn() {
        let data = spiral::<f64>(40, 3, 0.2, 2);
        let run = || {
            let mut model = mlp(1);
            let mut optimizer = Adam::new(0.02);
            let options = EpochOptions::new(16).clip_norm(5.0);
            let mut seen = 0;
            let epochs: Vec<EpochStats> = (0..15)
                .map(|epoch| {
                    let mut rng = shuffle_rng(7, epoch);
                    train_epoch(
                        &mut model,
                        &mut optimizer,
                        &data.features,
                        &data.labels,
                        &options,
                        &mut rng,
                        &mut |s| seen += s.examples,
                    )
                })
                .collect();
            (params(&mut model), epochs, seen)
        };
        let (a, epochs, seen) = run();
        let (b, _, _) = run();
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(seen, 15 * 120);
        assert_eq!((epochs[0].examples, epochs[0].batches), (120, 8));
        assert!(epochs[14].loss < epochs[0].loss, "{epochs:?}");
    }

    #[test]
    fn evaluate_measures_in_evaluation_mode_in_batches() {
        let data = spiral::<f64>(10, 3, 0.2, 2);
        let model = mlp(4);
        let whole = evaluate(&model, &data.features, &data.labels, 1000);
        let pieces = evaluate(&model, &data.features, &data.labels, 7);
        assert_eq!((whole.batches, pieces.batches), (1, 5));
        assert!((whole.loss - pieces.loss).abs() < 1e-12);
        assert_eq!(whole.accuracy, pieces.accuracy);
        let scores = model.predict_as::<Ix2>(&data.features);
        assert_eq!(
            whole.accuracy,
            crate::losses::accuracy(&scores, &data.labels)
        );
    }

    #[test]
    fn shuffle_generators_differ_by_epoch_and_from_the_seed() {
        let first = |mut rng: SeededRng| rng.next_u64();
        assert_eq!(first(shuffle_rng(3, 1)), first(shuffle_rng(3, 1)));
        assert_ne!(first(shuffle_rng(3, 1)), first(shuffle_rng(3, 2)));
        assert_ne!(first(shuffle_rng(3, 0)), first(SeededRng::new(3)));
        assert_ne!(first(shuffle_rng(3, 0)), first(shuffle_rng(4, 0)));
    }

    #[test]
    #[should_panic(expected = "5 examples (inputs of shape [5, 2]) but 4 labels")]
    fn labels_must_match_the_examples() {
        evaluate(&mlp(0), &Array2::<f64>::zeros((5, 2)), &Array1::zeros(4), 2);
    }

    #[test]
    fn training_checkpoints_restore_the_optimizer() {
        let dir = std::env::temp_dir().join(format!("backprop-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.safetensors");
        let data = spiral::<f64>(10, 3, 0.2, 2);
        let target = Target::Classes(data.labels.view());
        let mut model = mlp(0);
        let mut optimizer = Adam::new(0.01);
        train_step(&mut model, &mut optimizer, &data.features, target, None);
        let metadata = BTreeMap::from([("epoch".to_owned(), "1".to_owned())]);
        save_training_checkpoint(&path, &mut model, &optimizer, &metadata).unwrap();

        let mut resumed = mlp(9);
        let mut resumed_optimizer = Adam::new(0.01);
        let read = load_training_checkpoint(&path, &mut resumed, &mut resumed_optimizer).unwrap();
        assert_eq!(read, metadata);
        assert_eq!(resumed_optimizer.state(), optimizer.state());
        train_step(&mut model, &mut optimizer, &data.features, target, None);
        train_step(
            &mut resumed,
            &mut resumed_optimizer,
            &data.features,
            target,
            None,
        );
        assert_eq!(params(&mut model), params(&mut resumed));

        // The state of another optimizer is an error, and names what is wrong.
        let error = load_training_checkpoint(&path, &mut mlp(0), &mut Sgd::new(0.1)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("optimizer state in the checkpoint: ")
                && error
                    .to_string()
                    .contains("is not part of this optimizer's state"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file whose optimizer state does not fit leaves the model and the
    /// optimizer as they were (the parameters were once overwritten before the
    /// optimizer's state was found missing), and names the tensor as the file does.
    #[test]
    fn a_training_checkpoint_that_does_not_fit_changes_nothing() {
        let dir = std::env::temp_dir().join(format!("backprop-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sgd.safetensors");
        let data = spiral::<f64>(10, 3, 0.2, 2);
        let mut model = mlp(0);
        let mut sgd = Sgd::new(0.1);
        train_step(
            &mut model,
            &mut sgd,
            &data.features,
            Target::Classes(data.labels.view()),
            None,
        );
        save_training_checkpoint(&path, &mut model, &sgd, &BTreeMap::new()).unwrap();

        // An Adam wants moments the file does not have.
        let mut other = mlp(5);
        let before = params(&mut other);
        let mut adam = Adam::new(0.01);
        train_step(
            &mut other,
            &mut adam,
            &data.features,
            Target::Classes(data.labels.view()),
            None,
        );
        let (params_before, state_before) = (params(&mut other), adam.state());
        assert_ne!(params_before, before);
        let error = load_training_checkpoint(&path, &mut other, &mut adam).unwrap_err();
        assert!(error.to_string().contains("`optim.adam."), "{error}");
        assert_eq!(params(&mut other), params_before, "the model was changed");
        assert_eq!(adam.state(), state_before, "the optimizer was changed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A checkpoint saved after training diverged is refused by default, and
    /// loads with the explicit option.
    #[test]
    fn non_finite_values_in_a_checkpoint_are_an_error_unless_allowed() {
        let dir = std::env::temp_dir().join(format!("backprop-nan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nan.safetensors");
        let mut model = mlp(0);
        let mut k = 0;
        model.visit_params(&mut |mut p| {
            if k == 2 {
                p.value[[0, 1]] = f64::NAN;
                p.value[[1, 1]] = f64::INFINITY;
            }
            k += 1;
        });
        let sgd = Sgd::new(0.1);
        save_training_checkpoint(&path, &mut model, &sgd, &BTreeMap::new()).unwrap();
        let mut fresh = mlp(3);
        let before = params(&mut fresh);
        let error = load_training_checkpoint(&path, &mut fresh, &mut Sgd::new(0.1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "tensor `fc2.w` holds 2 non-finite values (NaN or infinity); load it with \
             `LoadOptions { allow_non_finite: true, .. }` if that is intended"
        );
        assert_eq!(params(&mut fresh), before);
        let options = LoadOptions {
            allow_non_finite: true,
        };
        load_training_checkpoint_with(&path, &mut fresh, &mut Sgd::new(0.1), &options).unwrap();
        assert!(params(&mut fresh).iter().any(|v| v.is_nan()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
