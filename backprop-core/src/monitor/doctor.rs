//! The doctor: a [`Monitor`]'s measurements judged against [`Thresholds`], as
//! findings that say what was measured, where, when, and what to do.
//!
//! # The JSON schema
//!
//! [`Report::to_json`] writes one object; this layout is stable (fields may be
//! added, none renamed or removed, within schema `backprop.doctor/1`):
//!
//! ```text
//! {
//!   "schema": "backprop.doctor/1",
//!   "steps": 120,                  // training steps the monitor saw
//!   "findings": [
//!     {
//!       "kind": "dead_relu",       // one of the kinds below
//!       "subject": "relu1",        // the layer, parameter or clip site
//!       "measured": 0.62,          // the figure judged (null if infinite or NaN)
//!       "threshold": 0.25,         // the limit it crossed
//!       "direction": "above",      // "above": measured > threshold; "below": measured < threshold
//!       "step": 40,                // the step since which it holds
//!       "what": "62% of the units ...",  // the measurement in words
//!       "advice": "Lower the learning rate, ..."
//!     }
//!   ]
//! }
//! ```
//!
//! | `kind` | `measured` | default `threshold` |
//! | --- | --- | --- |
//! | `saturation` | fraction of a sigmoid/tanh layer's outputs with a local derivative below [`MonitorConfig::saturation_slope`](super::MonitorConfig::saturation_slope) of its maximum, mean over the last window | above 0.5 |
//! | `dead_relu` | fraction of a ReLU layer's units that fired for no example over the last pass (or window) | above 0.25 |
//! | `exploding_gradient` | gradient norm at the first time step over the norm at the last, median over the last window | above 100 |
//! | `vanishing_gradient` | the same ratio | below 0.01 |
//! | `zeroed_by_clip` | fraction of samples with an exactly zero gradient through a value clip, mean over the last window | above 0.1 |
//! | `non_finite` | steps with a NaN or infinite gradient (skipped) | above 0 |
//! | `update_ratio` | norm of a weight's update over the weight's norm (weights of rank 2 or more), median over the last window; for too small, over the whole run | above 0.1, or below 1e-5 |

use std::fmt;

use serde_json::json;

use super::Monitor;
use crate::Activation;

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindingKind {
    /// Sigmoid or tanh units pinned where their derivative is almost 0.
    Saturation,
    /// ReLU units that never fire, so never get a gradient.
    DeadRelu,
    /// A gradient that grows step after step of backpropagation through time.
    ExplodingGradient,
    /// A gradient that dies away step after step of backpropagation through time.
    VanishingGradient,
    /// Samples whose gradient a value clip made exactly zero.
    ZeroedByClip,
    /// NaN or infinite gradients.
    NonFinite,
    /// Updates far from about 1e-3 of the weights per step.
    UpdateRatio,
}

impl FindingKind {
    /// The name in the JSON schema (`"dead_relu"`).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Saturation => "saturation",
            FindingKind::DeadRelu => "dead_relu",
            FindingKind::ExplodingGradient => "exploding_gradient",
            FindingKind::VanishingGradient => "vanishing_gradient",
            FindingKind::ZeroedByClip => "zeroed_by_clip",
            FindingKind::NonFinite => "non_finite",
            FindingKind::UpdateRatio => "update_ratio",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding of the doctor.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// What it is about.
    pub kind: FindingKind,
    /// The layer, parameter or clip site.
    pub subject: String,
    /// The figure judged (see the table in the [module docs](self)).
    pub measured: f64,
    /// The limit it crossed.
    pub threshold: f64,
    /// Whether `measured` is above the threshold (`true`) or below it.
    pub above: bool,
    /// The step since which it holds.
    pub step: u64,
    /// The measurement in words.
    pub what: String,
    /// What to do about it, in words.
    pub advice: String,
}

/// The limits the doctor judges by; see the table in the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// `saturation`: the fraction of saturated outputs.
    pub saturated_fraction: f64,
    /// `dead_relu`: the fraction of dead units.
    pub dead_fraction: f64,
    /// `exploding_gradient`: the ratio of the first step's gradient norm to the last's.
    pub exploding_ratio: f64,
    /// `vanishing_gradient`: the same ratio, below.
    pub vanishing_ratio: f64,
    /// `zeroed_by_clip`: the fraction of samples with a zero gradient.
    pub zeroed_fraction: f64,
    /// `update_ratio`: the largest healthy update-to-weight ratio.
    pub update_ratio_high: f64,
    /// `update_ratio`: the smallest healthy update-to-weight ratio.
    pub update_ratio_low: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            saturated_fraction: 0.5,
            dead_fraction: 0.25,
            exploding_ratio: 100.0,
            vanishing_ratio: 0.01,
            zeroed_fraction: 0.1,
            update_ratio_high: 0.1,
            update_ratio_low: 1e-5,
        }
    }
}

/// The doctor's findings about a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The training steps the monitor saw.
    pub steps: u64,
    /// The findings, grouped by kind in the order of [`FindingKind`].
    pub findings: Vec<Finding>,
}

/// The fewest observed batches a ReLU layer's units are judged dead over, when
/// no window or pass has ended yet: one batch of a healthy layer can miss a
/// unit that fires for few examples.
const MIN_BATCHES_FOR_DEAD: usize = 3;

/// The `schema` field of [`Report::to_json`].
pub const SCHEMA: &str = "backprop.doctor/1";

impl Report {
    /// Whether there is a finding of `kind` about `subject`.
    pub fn has(&self, kind: FindingKind, subject: &str) -> bool {
        self.findings
            .iter()
            .any(|f| f.kind == kind && f.subject == subject)
    }

    /// The findings of `kind`.
    pub fn of_kind(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }

    /// The report as JSON, in the schema of the [module docs](self).
    pub fn to_json(&self) -> String {
        let findings: Vec<_> = self
            .findings
            .iter()
            .map(|f| {
                json!({
                    "kind": f.kind.as_str(),
                    "subject": f.subject,
                    "measured": f.measured,
                    "threshold": f.threshold,
                    "direction": if f.above { "above" } else { "below" },
                    "step": f.step,
                    "what": f.what,
                    "advice": f.advice,
                })
            })
            .collect();
        let report = json!({ "schema": SCHEMA, "steps": self.steps, "findings": findings });
        serde_json::to_string_pretty(&report).expect("a JSON value always serializes")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings.is_empty() {
            return writeln!(f, "doctor: no findings over {}", plural(self.steps, "step"));
        }
        let (n, steps) = (self.findings.len() as u64, self.steps);
        writeln!(
            f,
            "doctor: {} over {}",
            plural(n, "finding"),
            plural(steps, "step")
        )?;
        let width = self
            .findings
            .iter()
            .map(|x| x.subject.len())
            .max()
            .unwrap_or(0)
            .max("subject".len());
        writeln!(
            f,
            "{:<18}  {:<width$}  {:>10}  {:>11}  {:>6}",
            "kind", "subject", "measured", "threshold", "step"
        )?;
        for x in &self.findings {
            let limit = format!(
                "{} {}",
                if x.above { ">" } else { "<" },
                number(x.threshold)
            );
            writeln!(
                f,
                "{:<18}  {:<width$}  {:>10}  {:>11}  {:>6}",
                x.kind.as_str(),
                x.subject,
                number(x.measured),
                limit,
                x.step
            )?;
            writeln!(f, "    what:   {}", x.what)?;
            writeln!(f, "    advice: {}", x.advice)?;
        }
        Ok(())
    }
}

/// `1 step`, `2 steps`.
fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A figure for the table: 3 significant digits, scientific when far from 1.
fn number(x: f64) -> String {
    if x == 0.0 || (1e-3..1e4).contains(&x.abs()) {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

/// A fraction as a percentage for the sentences.
fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// The last `window` values of a series.
fn recent(series: &[(u64, f64)], window: usize) -> &[(u64, f64)] {
    &series[series.len().saturating_sub(window.max(1))..]
}

fn mean(values: &[(u64, f64)]) -> f64 {
    values.iter().map(|v| v.1).sum::<f64>() / values.len().max(1) as f64
}

fn median(values: &[(u64, f64)]) -> f64 {
    let mut v: Vec<f64> = values.iter().map(|v| v.1).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The step since which `bad` has held for every entry of `series`, walking back
/// from the last.
fn since(series: &[(u64, f64)], bad: impl Fn(f64) -> bool) -> u64 {
    let mut step = series.last().map_or(0, |v| v.0);
    for &(s, v) in series.iter().rev() {
        if !bad(v) {
            break;
        }
        step = s;
    }
    step
}

/// The findings from what `monitor` measured.
pub(super) fn diagnose(monitor: &Monitor) -> Report {
    let config = monitor.config();
    let (t, window) = (&config.thresholds, config.window);
    let mut findings = Vec::new();

    for a in &monitor.activations {
        if a.kind == Activation::Relu || a.saturated.is_empty() {
            continue;
        }
        let measured = mean(recent(&a.saturated, window));
        if measured > t.saturated_fraction {
            findings.push(Finding {
                kind: FindingKind::Saturation,
                subject: a.layer.clone(),
                measured,
                threshold: t.saturated_fraction,
                above: true,
                step: since(&a.saturated, |v| v > t.saturated_fraction),
                what: format!(
                    "{} of the {} outputs have a local derivative below {} of its maximum: \
                     the gradient through this layer all but stops",
                    percent(measured),
                    a.kind.name(),
                    config.saturation_slope
                ),
                advice: "Scale the initialization to the layer's fan-in (Xavier/Glorot: \
                         `init::xavier_uniform`), normalize the inputs to zero mean and unit \
                         variance, put batch or layer normalization before the activation, \
                         or use ReLU."
                    .to_string(),
            });
        }
    }

    for a in &monitor.activations {
        let Some((step, measured)) = a.dead_fraction(MIN_BATCHES_FOR_DEAD) else {
            continue;
        };
        if measured > t.dead_fraction {
            let over_pass = a.dead_in_epoch.last().is_some_and(|e| e.0 == step);
            let series = if over_pass {
                &a.dead_in_epoch
            } else {
                &a.dead_in_window
            };
            let since_step = match series.last() {
                Some(last) if last.0 == step => since(series, |v| v > t.dead_fraction),
                _ => step,
            };
            let died = a
                .died
                .last()
                .map(|d| format!("; {} fired earlier and died", percent(d.1)))
                .unwrap_or_default();
            findings.push(Finding {
                kind: FindingKind::DeadRelu,
                subject: a.layer.clone(),
                measured,
                threshold: t.dead_fraction,
                above: true,
                step: since_step,
                what: format!(
                    "{} of the units never fired (output above 0) for any example \
                     of the last {}: they get no gradient and cannot recover{died}",
                    percent(measured),
                    if over_pass {
                        "pass through the data".to_string()
                    } else {
                        format!("{window} observed batches")
                    },
                ),
                advice: "Lower the learning rate, initialize with He (`init::he_normal`), \
                         start the biases at zero or slightly positive, or use a leaky ReLU \
                         (`LeakyRelu`)."
                    .to_string(),
            });
        }
    }

    for r in &monitor.recurrences {
        let ratios: Vec<(u64, f64)> = r
            .records
            .iter()
            .filter_map(|(s, g)| {
                // A gradient that overflowed exploded; a zero at the last step says nothing.
                let overflowed = g.step_norms.iter().any(|n| !n.is_finite());
                let ratio = if overflowed {
                    Some(f64::INFINITY)
                } else {
                    g.ratio()
                };
                Some((*s, ratio?))
            })
            .collect();
        if ratios.is_empty() {
            continue;
        }
        let measured = median(recent(&ratios, window));
        // The sentence describes the last backward through time, and the latest
        // singular value (measured at the parameter statistics' period).
        let last = &r.records[r.records.len() - 1].1;
        let steps = last.step_norms.len();
        let sigma = r
            .records
            .iter()
            .rev()
            .find_map(|(_, g)| g.largest_singular_value)
            .map(|s| format!("; the largest singular value of the recurrence matrix is {s:.3}"))
            .unwrap_or_default();
        let growth = last
            .growth_per_step()
            .map(|g| format!(" ({g:.3}x per step)"))
            .unwrap_or_default();
        let exploding = measured >= t.exploding_ratio;
        if exploding || measured < t.vanishing_ratio {
            let (kind, threshold, what, advice) = if exploding {
                (
                    FindingKind::ExplodingGradient,
                    t.exploding_ratio,
                    format!(
                        "the gradient grew {}x over {steps} steps of backpropagation \
                         through time{growth}{sigma}",
                        number(measured)
                    ),
                    "Clip the gradients by their global norm (`EpochOptions::clip_norm`, \
                     `optim::clip_grad_norm`), initialize the recurrence matrix orthogonally \
                     (`init::orthogonal`) or scale it to a largest singular value of at most 1, \
                     lower the learning rate, or use an LSTM.",
                )
            } else {
                (
                    FindingKind::VanishingGradient,
                    t.vanishing_ratio,
                    format!(
                        "the gradient shrank to {} of its size over {steps} steps of \
                         backpropagation through time{growth}{sigma}: early steps do not learn",
                        number(measured)
                    ),
                    "Use an LSTM (`layers::Lstm`) or GRU cell, initialize the recurrence \
                     matrix orthogonally (`init::orthogonal`), or shorten the dependencies \
                     the model must learn.",
                )
            };
            let bad = |v: f64| {
                if exploding {
                    v >= threshold
                } else {
                    v < threshold
                }
            };
            findings.push(Finding {
                kind,
                subject: r.layer.clone(),
                measured,
                threshold,
                above: exploding,
                step: since(&ratios, bad),
                what,
                advice: advice.to_string(),
            });
        }
    }

    for c in &monitor.clips {
        let measured = mean(recent(&c.zeroed, window));
        if measured > t.zeroed_fraction {
            findings.push(Finding {
                kind: FindingKind::ZeroedByClip,
                subject: c.site.clone(),
                measured,
                threshold: t.zeroed_fraction,
                above: true,
                step: since(&c.zeroed, |v| v > t.zeroed_fraction),
                what: format!(
                    "{} of the samples got an exactly zero gradient through the value \
                     clip: they contribute nothing to learning, the larger their error the surer",
                    percent(measured)
                ),
                advice: "Clip the gradient, not the value: write `huber(delta, 1.0)` \
                         (quadratic near 0, linear beyond) instead of \
                         `clip(delta, -1.0, 1.0).square()`."
                    .to_string(),
            });
        }
    }

    if let Some(&first) = monitor.non_finite_steps.first() {
        let n = monitor.non_finite_steps.len();
        findings.push(Finding {
            kind: FindingKind::NonFinite,
            subject: "gradients".to_string(),
            measured: n as f64,
            threshold: 0.0,
            above: true,
            step: first,
            what: format!(
                "{} had a NaN or infinite gradient and {} skipped",
                plural(n as u64, "step"),
                if n == 1 { "was" } else { "were" }
            ),
            advice: "Turn on the non-finite guard (`ops::set_non_finite_guard(true)`) to \
                     stop at the source line that produced it; lower the learning rate; use \
                     `log_softmax` or `logsumexp`, and an epsilon under `sqrt`, `ln` and divisions."
                .to_string(),
        });
    }

    for p in &monitor.params {
        if p.shape.len() < 2 || p.update_ratio.is_empty() {
            continue;
        }
        // Too high now is a finding; too low only over the whole run, since a
        // schedule that decays the learning rate ends with small updates on purpose.
        let (high, low) = (t.update_ratio_high, t.update_ratio_low);
        let now = median(recent(&p.update_ratio, window));
        let overall = median(&p.update_ratio);
        let (measured, threshold, above, advice) = if now > high {
            (
                now,
                high,
                true,
                "Lower the learning rate: each step changes the weights by a large part of their size.",
            )
        } else if overall < low {
            (
                overall,
                low,
                false,
                "Raise the learning rate, or check that this weight takes a gradient at all: it barely changes.",
            )
        } else {
            continue;
        };
        findings.push(Finding {
            kind: FindingKind::UpdateRatio,
            subject: p.name.clone(),
            measured,
            threshold,
            above,
            step: since(&p.update_ratio, |v| if above { v > high } else { v < low }),
            what: format!(
                "each update changes the weight by {} of its norm (about 1e-3 is healthy)",
                number(measured)
            ),
            advice: advice.to_string(),
        });
    }

    Report {
        steps: monitor.step(),
        findings,
    }
}
