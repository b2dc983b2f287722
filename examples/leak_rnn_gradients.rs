//! Leak 3, exploding and vanishing gradients through time: backpropagation
//! through time multiplies the gradient by the recurrence matrix once per step,
//! so it grows or dies away geometrically with its largest eigenvalue.
//!
//! ```sh
//! cargo run --release --example leak_rnn_gradients            # the failures, and the doctor's findings
//! cargo run --release --example leak_rnn_gradients -- --fix   # the advice applied, before and after
//! cargo run --release --example leak_rnn_gradients -- --json  # the findings as JSON
//! ```
//!
//! The classic illustration (CS231n, lecture 10): a recurrence with no input,
//! `h_t = relu(h_{t-1} Whh)`, hidden size 5, T = 50 steps, from a batch of
//! positive initial states; the loss is the sum of the last state. `Whh` is
//! symmetric with eigenvalues `lambda * (1, 0.9, 0.8, 0.7, 0.6)`: with `lambda`
//! above 1 the gradient explodes on its way back to the first step, below 1 it
//! vanishes. The step is a `#[differentiable]` function; the loop over time and
//! its backpropagation are the ten lines of `through_time` below, which record
//! the gradient's norm at each step for the monitor. The fix is the doctor's
//! advice of an orthogonal recurrence: here the identity, the orthogonal
//! matrix whose eigenvalues are all 1 (for ReLU recurrences, Le et al., 2015),
//! and gradient clipping by global norm for whatever growth remains in training.

#[path = "common/leak.rs"]
mod leak;

use std::error::Error;
use std::process::ExitCode;

use backprop::monitor::{FindingKind, GradientThroughTime, Monitor, largest_singular_value};
use backprop::ndarray::{Array1, Array2, ArrayView2};
use backprop::prelude::*;
use backprop::{SeededRng, init};
use clap::Parser;
use leak::LeakFlags;

/// Reproduce exploding and vanishing gradients through time, let the doctor find
/// them, and fix them.
#[derive(Parser, Debug)]
struct Args {
    #[command(flatten)]
    flags: LeakFlags,
    /// Time steps.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// The largest eigenvalue of the failing recurrence matrices (one run each).
    #[arg(long, num_args = 1.., default_values_t = [1.5, 0.5])]
    eigenvalue: Vec<f64>,
}

/// Hidden units.
const HIDDEN: usize = 5;
/// Sequences per batch.
const BATCH: usize = 16;

/// One step of the recurrence.
#[differentiable]
fn relu_step<T: Real>(h_prev: ArrayView2<T>, whh: ArrayView2<T>) -> Array2<T> {
    relu(h_prev.dot(&whh))
}

/// A symmetric `[HIDDEN, HIDDEN]` matrix with eigenvalues
/// `lambda * (1, 0.9, ..., 0.6)` along random orthogonal directions.
fn recurrence(lambda: f64, rng: &mut SeededRng) -> Array2<f64> {
    let q: Array2<f64> = init::orthogonal((HIDDEN, HIDDEN), 1.0, rng);
    let eigenvalues = Array1::from_shape_fn(HIDDEN, |i| lambda * (1.0 - 0.1 * i as f64));
    q.dot(&Array2::from_diag(&eigenvalues)).dot(&q.t())
}

/// Runs the recurrence `steps` times from `h0` and backpropagates the sum of the
/// last state through time, recording the gradient's norm at each step.
fn through_time(whh: &Array2<f64>, h0: &Array2<f64>, steps: usize) -> GradientThroughTime {
    let mut h = h0.clone();
    let mut saved = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (next, step_saved) = relu_step_train(h.view(), whh.view());
        saved.push(step_saved);
        h = next;
    }
    let mut record = GradientThroughTime::new();
    record.largest_singular_value = Some(largest_singular_value(whh, 50));
    let mut d_h = Array2::ones(h.raw_dim());
    for step_saved in saved.iter().rev() {
        record.push_step(&d_h);
        d_h = relu_step_backward(step_saved, d_h.view()).h_prev;
    }
    record
}

/// One run: its name and what its backward through time measured.
struct Run {
    name: String,
    record: GradientThroughTime,
}

/// Runs the recurrence `whh` from the seed's initial states and hands the
/// record to `monitor` under the run's name.
fn run_with(name: String, whh: &Array2<f64>, args: &Args, monitor: &mut Monitor) -> Run {
    let mut rng = SeededRng::new(args.flags.seed.wrapping_add(1));
    let h0 = init::uniform((BATCH, HIDDEN), 0.0, 1.0, &mut rng);
    let record = through_time(whh, &h0, args.steps);
    monitor.observe_through_time(&format!("whh, {name}"), record.clone());
    Run { name, record }
}

/// The norm of the gradient at a few steps, last step first.
fn print_norms(flags: &LeakFlags, runs: &[Run], steps: usize) {
    let mut header = format!("{:>9}", "time step");
    for run in runs {
        header.push_str(&format!("  {:>24}", run.name));
    }
    flags.say(format_args!(
        "\ngradient norm at each step, walking back from the loss:\n{header}"
    ));
    let shown: Vec<usize> = (0..steps)
        .rev()
        .step_by(steps.div_ceil(10).max(1))
        .chain([0])
        .collect();
    let mut seen = Vec::new();
    for t in shown {
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        let mut line = format!("{t:>9}");
        for run in runs {
            line.push_str(&format!("  {:>24.3e}", run.record.step_norms[t]));
        }
        flags.say(line);
    }
    let mut growth = format!("{:>9}", "per step");
    for run in runs {
        let g = run.record.growth_per_step().unwrap_or(f64::NAN);
        growth.push_str(&format!("  {:>23.3}x", g));
    }
    flags.say(growth);
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let flags = &args.flags;
    if args.steps < 2 {
        return Err("--steps must be at least 2".into());
    }
    flags.say(format_args!(
        "h_t = relu(h_(t-1) Whh), hidden size {HIDDEN}, T = {}, a batch of {BATCH} positive \
         initial states, loss = sum of h_T",
        args.steps
    ));
    // One monitor for the failing matrices, one for the fix: one report each.
    let mut failing = Monitor::default();
    failing.next_step();
    let mut rng = SeededRng::new(args.flags.seed);
    let runs: Vec<Run> = args
        .eigenvalue
        .iter()
        .map(|&lambda| {
            let whh = recurrence(lambda, &mut rng);
            run_with(
                format!("largest eigenvalue {lambda}"),
                &whh,
                args,
                &mut failing,
            )
        })
        .collect();
    print_norms(flags, &runs, args.steps);
    let mut last = flags.findings("the failing recurrences", &failing)?;
    if flags.fix {
        let kinds = [
            FindingKind::ExplodingGradient,
            FindingKind::VanishingGradient,
        ];
        flags.apply_advice(&last, &kinds);
        let mut fixed = Monitor::default();
        fixed.next_step();
        let identity = Array2::eye(HIDDEN);
        let name = "orthogonal (identity)".to_string();
        let all: Vec<Run> = runs
            .into_iter()
            .chain([run_with(name, &identity, args, &mut fixed)])
            .collect();
        print_norms(flags, &all, args.steps);
        last = flags.findings("the identity recurrence", &fixed)?;
        flags.say(
            "\nIn training, clip the gradients by their global norm as well \
             (`EpochOptions::clip_norm`, `optim::clip_grad_norm`): it bounds a step, not the product.",
        );
    }
    flags.finish(&last);
    Ok(())
}

fn main() -> ExitCode {
    leak::exit(run(&Args::parse()))
}
