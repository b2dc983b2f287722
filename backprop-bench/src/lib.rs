//! The five fixed benchmark workloads of `shared/WORKLOADS.md`, each written three
//! ways where it makes sense:
//!
//! - **generated**: the workload as a user writes it, one `#[differentiable]`
//!   function, called through the ordinary `NAME_train` then `NAME_backward`
//!   (so that every improvement of the generated code shows up here unchanged);
//! - **hand-written**: plain ndarray with a hand-written backward, as tight as is
//!   reasonable (fused [`ndarray::Zip`] loops, `.dot` for matrix products, few
//!   allocations): the practical limit of an ndarray-based library;
//! - **layers** (W1 only): the runtime's `Sequential` of `Affine`, `Relu`, `Affine`
//!   and its softmax cross-entropy loss.
//!
//! Every variant returns a [`StepResult`]: the loss and every gradient the workload
//! lists; [`checksum`] reduces it to sums a reader can compare across variants.
//! [`Workload`] ties each workload to its variants at full size in `f32` and to the
//! work a lower bound is computed from. The `compare` binary prints them side by side.
#![forbid(unsafe_code)]

use backprop::Real;
use backprop::SeededRng;
use backprop::monitor::Monitor;
use ndarray::{Array, ArrayD, ArrayRef, Dimension, IntoDimension, Zip};

pub mod w1;
pub mod w2;
pub mod w3;
pub mod w4;
pub mod w5;

/// The seed every workload's data is drawn from, unless told otherwise.
pub const SEED: u64 = 0;

/// What one step (forward plus backward) of a variant produces.
#[derive(Clone, Debug)]
pub struct StepResult<T> {
    /// The scalar loss.
    pub loss: T,
    /// Every gradient the workload lists, by the name of its input, in a fixed order.
    pub grads: Vec<(&'static str, ArrayD<T>)>,
}

/// The checksum of one gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradSum {
    /// The name of the input the gradient is for.
    pub name: &'static str,
    /// The sum of its elements.
    pub sum: f64,
    /// Its Euclidean norm: some gradients sum to zero by construction (a softmax's
    /// bias gradient, batch norm's input gradient), and the norm still tells them apart.
    pub norm: f64,
}

/// The sums of a [`StepResult`]: the loss and the sum (and norm) of each gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Checksums {
    /// The loss.
    pub loss: f64,
    /// Each gradient's sum and norm, in the order of [`StepResult::grads`].
    pub grads: Vec<GradSum>,
}

/// The checksums of one step: the loss, and each gradient summed (and its norm) in `f64`.
pub fn checksum<T: Real>(result: &StepResult<T>) -> Checksums {
    Checksums {
        loss: result.loss.to_f64_lossy(),
        grads: result
            .grads
            .iter()
            .map(|(name, g)| GradSum {
                name,
                sum: sum_f64(g),
                norm: dot_sum_f64(g, g).sqrt(),
            })
            .collect(),
    }
}

/// The sum of all elements, accumulated in `f64` (so that the checksum of an `f32`
/// array of a million elements does not depend on the summation order).
pub fn sum_f64<T: Real, D: Dimension>(a: &ArrayRef<T, D>) -> f64 {
    a.iter().map(|&v| v.to_f64_lossy()).sum()
}

/// `sum(a * b)` over all elements, accumulated in `f64`.
///
/// # Panics
/// If the shapes differ.
pub fn dot_sum_f64<T: Real, D: Dimension>(a: &ArrayRef<T, D>, b: &ArrayRef<T, D>) -> f64 {
    Zip::from(a)
        .and(b)
        .fold(0.0, |acc, &x, &y| acc + x.to_f64_lossy() * y.to_f64_lossy())
}

/// An array of independent normal samples with standard deviation `scale`.
pub fn normal<T: Real, Sh: IntoDimension>(
    shape: Sh,
    scale: f64,
    rng: &mut SeededRng,
) -> Array<T, Sh::Dim> {
    Array::from_shape_simple_fn(shape.into_dimension(), || T::lit(scale * rng.normal()))
}

/// `n` uniform integers in `0..k` (labels, actions).
pub fn indices(n: usize, k: usize, rng: &mut SeededRng) -> ndarray::Array1<usize> {
    ndarray::Array1::from_shape_simple_fn(n, || rng.below(k))
}

/// The largest relative difference between two steps' results:
/// `max |a - b| / max |b|` over each gradient, and `|a - b| / |b|` for the loss.
///
/// # Panics
/// If the two results do not list the same gradients with the same shapes.
pub fn max_rel_diff<T: Real>(a: &StepResult<T>, b: &StepResult<T>) -> f64 {
    let rel = |d: f64, scale: f64| d / scale.max(1e-300);
    let (la, lb) = (a.loss.to_f64_lossy(), b.loss.to_f64_lossy());
    let mut worst = rel((la - lb).abs(), lb.abs());
    assert_eq!(a.grads.len(), b.grads.len(), "different gradient lists");
    for ((na, ga), (nb, gb)) in a.grads.iter().zip(&b.grads) {
        assert_eq!(na, nb, "gradients in a different order");
        assert_eq!(ga.shape(), gb.shape(), "gradient {na} has different shapes");
        let diff = Zip::from(ga).and(gb).fold(0.0f64, |m, &x, &y| {
            m.max((x.to_f64_lossy() - y.to_f64_lossy()).abs())
        });
        let scale = gb
            .iter()
            .fold(0.0f64, |m, &y| m.max(y.to_f64_lossy().abs()));
        worst = worst.max(rel(diff, scale));
    }
    worst
}

/// How a workload's lower bound is computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Work {
    /// Floating-point operations of the matrix products a step cannot avoid,
    /// to divide by the machine's matmul rate.
    Flops(f64),
    /// Bytes a step must move to or from memory at least, to divide by the
    /// machine's memory bandwidth.
    Bytes(f64),
}

/// One way of computing a workload, ready to run steps on its own data.
pub struct Variant {
    /// `hand-written`, `generated` or `layers`.
    pub name: &'static str,
    step: Box<dyn FnMut() -> StepResult<f32>>,
}

impl Variant {
    /// A variant named `name` whose step is `step`.
    pub fn new(name: &'static str, step: impl FnMut() -> StepResult<f32> + 'static) -> Self {
        Variant {
            name,
            step: Box::new(step),
        }
    }

    /// Runs one step: forward and backward, every listed gradient.
    pub fn step(&mut self) -> StepResult<f32> {
        (self.step)()
    }
}

impl std::fmt::Debug for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variant").field("name", &self.name).finish()
    }
}

/// The two variants every workload has, the hand-written baseline first, each
/// on its own copy of `d`.
pub fn hand_and_generated<D: Clone + 'static>(
    d: D,
    hand: fn(&D) -> StepResult<f32>,
    generated: fn(&D) -> StepResult<f32>,
) -> Vec<Variant> {
    let d2 = d.clone();
    vec![
        Variant::new(BASELINE, move || hand(&d)),
        Variant::new("generated", move || generated(&d2)),
    ]
}

/// The name of a variant that also feeds a runtime monitor.
pub const MONITORED: &str = "generated, monitored";

/// The generated step `step` on `d`, feeding a [`Monitor`] as a monitored
/// training loop would: [`Monitor::next_step`], what `step` records itself (the
/// gradient through time), and every gradient's norm at the monitor's sampling
/// period ([`Monitor::observe_gradient`]).
pub fn monitored<D: 'static>(d: D, step: fn(&D, &mut Monitor) -> StepResult<f32>) -> Variant {
    let mut monitor = Monitor::default();
    Variant::new(MONITORED, move || {
        monitor.next_step();
        let result = step(&d, &mut monitor);
        for (name, grad) in &result.grads {
            monitor.observe_gradient(name, grad);
        }
        result
    })
}

/// [`monitored`] for a step that records nothing itself.
pub fn monitored_step<D: 'static>(d: D, step: fn(&D) -> StepResult<f32>) -> Variant {
    let d = (d, step);
    monitored(d, |(d, step), _| step(d))
}

/// Asserts that the generated and the hand-written step agree to 1e-9 relative,
/// on the data of three seeds.
#[cfg(test)]
pub(crate) fn assert_agree<D>(
    data: impl Fn(u64) -> D,
    generated: fn(&D) -> StepResult<f64>,
    hand: fn(&D) -> StepResult<f64>,
) {
    for seed in 0..3 {
        let d = data(seed);
        let diff = max_rel_diff(&generated(&d), &hand(&d));
        assert!(diff < 1e-9, "generated vs hand-written: {diff:e}");
    }
}

/// The name of the hand-written baseline, the one ratios are taken against.
pub const BASELINE: &str = "hand-written";

/// The five workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// MLP 784-256-10 with softmax cross-entropy, batch 128.
    W1,
    /// An elementwise chain over `[1024, 1024]` reduced to a scalar.
    W2,
    /// A vanilla RNN, batch 32, input 64, hidden 256, T = 50, loss = sum of all states.
    W3,
    /// Batch norm training forward and backward on `[1024, 512]`.
    W4,
    /// The DQN Huber loss of a 64-128-18 ReLU network, batch 256.
    W5,
}

impl Workload {
    /// All five, in order.
    pub const ALL: [Workload; 5] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
    ];

    /// `W1` .. `W5`.
    pub fn id(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
        }
    }

    /// The workload by its id (`W1`, `w1`, `1`).
    pub fn parse(s: &str) -> Option<Workload> {
        let s = s.trim().trim_start_matches(['W', 'w']);
        Workload::ALL.into_iter().find(|w| &w.id()[1..] == s)
    }

    /// A one-line description.
    pub fn description(self) -> &'static str {
        match self {
            Workload::W1 => "MLP 784-256-10, softmax cross-entropy, batch 128",
            Workload::W2 => "elementwise chain on [1024, 1024]",
            Workload::W3 => "vanilla RNN, batch 32, 64 -> 256, T = 50",
            Workload::W4 => "batchnorm train forward + backward on [1024, 512]",
            Workload::W5 => "DQN Huber loss, 64-128-18, batch 256",
        }
    }

    /// The variants at full size in `f32`, on data drawn from `seed`; the
    /// hand-written baseline ([`BASELINE`]) first.
    pub fn variants(self, seed: u64) -> Vec<Variant> {
        match self {
            Workload::W1 => w1::variants(seed),
            Workload::W2 => w2::variants(seed),
            Workload::W3 => w3::variants(seed),
            Workload::W4 => w4::variants(seed),
            Workload::W5 => w5::variants(seed),
        }
    }

    /// The monitored variants at full size in `f32`: the generated step feeding a
    /// runtime monitor ([`MONITORED`]), and for W1 the layers with a monitor
    /// attached (`layers, monitored`). Compared with their unmonitored twins,
    /// they give the monitors' cost.
    pub fn monitored(self, seed: u64) -> Vec<Variant> {
        match self {
            Workload::W1 => w1::monitored_variants(seed),
            Workload::W2 => vec![monitored_step(
                w2::Data::new(w2::Sizes::FULL, seed),
                w2::generated,
            )],
            Workload::W3 => vec![monitored(
                w3::Data::new(w3::Sizes::FULL, seed),
                w3::generated_monitored,
            )],
            Workload::W4 => vec![monitored_step(
                w4::Data::new(w4::Sizes::FULL, seed),
                w4::generated,
            )],
            Workload::W5 => vec![monitored_step(
                w5::Data::new(w5::Sizes::FULL, seed),
                w5::generated,
            )],
        }
    }

    /// The work a lower bound on the time of one step is computed from, at full size in `f32`.
    pub fn work(self) -> Work {
        match self {
            Workload::W1 => Work::Flops(w1::Sizes::FULL.flops()),
            Workload::W2 => Work::Bytes(w2::Sizes::FULL.bytes::<f32>()),
            Workload::W3 => Work::Flops(w3::Sizes::FULL.flops()),
            Workload::W4 => Work::Bytes(w4::Sizes::FULL.bytes::<f32>()),
            Workload::W5 => Work::Flops(w5::Sizes::FULL.flops()),
        }
    }

    /// What the lower bound counts, in words.
    pub fn work_note(self) -> &'static str {
        match self {
            Workload::W1 => "fwd 2 matmuls + dW1, dW2, dh",
            Workload::W2 => "read x, write dx once",
            Workload::W3 => "per step fwd 2 matmuls + dWx, dWh, dh",
            Workload::W4 => "read x, dout; write out, dx once",
            Workload::W5 => "fwd 2 matmuls + dW1, dW2, dh",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_parse_by_id() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.id()), Some(w));
            assert_eq!(Workload::parse(&w.id().to_lowercase()), Some(w));
        }
        assert_eq!(Workload::parse("3"), Some(Workload::W3));
        assert_eq!(Workload::parse("W6"), None);
    }

    #[test]
    fn checksums_sum_every_gradient() {
        let r = StepResult {
            loss: 1.5f64,
            grads: vec![("a", ndarray::arr1(&[1.0, 2.0]).into_dyn())],
        };
        assert_eq!(
            checksum(&r),
            Checksums {
                loss: 1.5,
                grads: vec![GradSum {
                    name: "a",
                    sum: 3.0,
                    norm: 5f64.sqrt()
                }]
            }
        );
        assert_eq!(max_rel_diff(&r, &r), 0.0);
    }
}
