//! Leak 4, the DQN bug: clipping the TD error's value instead of its gradient.
//! A value clip has a zero local gradient outside its range, so every sample
//! with a large error contributes exactly nothing: the opposite of the intent.
//!
//! ```sh
//! cargo run --release --example leak_dqn_clip            # the failure, and the doctor's findings
//! cargo run --release --example leak_dqn_clip -- --fix   # huber instead, before and after
//! cargo run --release --example leak_dqn_clip -- --json  # the findings as JSON
//! ```
//!
//! Building this example prints the compile-time warning on purpose: the macro
//! sees the `clip` on the path to the loss in `clipped_td_loss` and suggests
//! `huber` (the `clip_zero_gradient` lint; only `cargo clippy` is told to allow
//! it, so that the workspace's lint run stays clean).
//!
//! A Q-network, 8 state features -> 64 ReLU -> 4 action values, regresses
//! targets `r + gamma max Q'` drawn from a fixed linear function of the state
//! scaled like rewards of tens of points, as a DQN's replay batches would give
//! it. `q = Q[i, a_i]` is picked per sample; the loss is the mean of
//! `clip(target - q, -1, 1)^2`, or with `--fix`, of `huber(target - q, 1)`, whose
//! gradient is the clipped error.

#[path = "common/leak.rs"]
mod leak;

use std::error::Error;
use std::process::ExitCode;

use backprop::layers::{Affine, Relu};
use backprop::model::Sequential;
use backprop::monitor::{FindingKind, Monitor};
use backprop::ndarray::{Array1, Array2, ArrayView1, ArrayView2, Ix2};
use backprop::optim::{Adam, Optimizer};
use backprop::prelude::*;
use backprop::{SeededRng, init};
use clap::Parser;
use leak::LeakFlags;

/// Reproduce the DQN value clip, let the doctor find it, and fix it with `huber`.
#[derive(Parser, Debug)]
struct Args {
    #[command(flatten)]
    flags: LeakFlags,
    /// Optimization steps (one fresh batch each).
    #[arg(long, default_value_t = 300)]
    steps: usize,
}

const FEATURES: usize = 8;
const ACTIONS: usize = 4;
const BATCH: usize = 64;
/// How large the targets are: rewards of tens of points.
const REWARD_SCALE: f64 = 10.0;

/// The buggy loss: the TD error's value clipped to `[-1, 1]`, then squared.
#[differentiable]
#[cfg_attr(clippy, allow(deprecated))]
fn clipped_td_loss<T: Real>(
    q_all: ArrayView2<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    let q = pick(q_all, &actions);
    clip(target - q, -1.0, 1.0).square().mean()
}

/// The fix: the Huber loss, quadratic within 1 of the target and linear beyond,
/// whose gradient is the TD error clipped to `[-1, 1]`.
#[differentiable]
fn huber_td_loss<T: Real>(
    q_all: ArrayView2<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    let q = pick(q_all, &actions);
    huber(target - q, 1.0).mean()
}

/// A replay batch: states, the actions taken, and their TD targets.
struct Batch {
    states: Array2<f32>,
    actions: Array1<usize>,
    targets: Array1<f32>,
}

/// A batch drawn from `rng`, with targets from the fixed `truth` `[FEATURES, ACTIONS]`.
fn batch(truth: &Array2<f32>, rng: &mut SeededRng) -> Batch {
    let states: Array2<f32> = init::normal((BATCH, FEATURES), 1.0, rng);
    let actions = Array1::from_shape_fn(BATCH, |_| rng.below(ACTIONS));
    let values = states.dot(truth);
    let targets = Array1::from_shape_fn(BATCH, |i| values[[i, actions[i]]]);
    Batch {
        states,
        actions,
        targets,
    }
}

/// What a run ended with.
struct Outcome {
    name: &'static str,
    error: f64,
    zeroed: f64,
    monitor: Monitor,
}

/// The mean absolute TD error of the network on `b`.
fn mean_error(q_all: &Array2<f32>, b: &Batch) -> f64 {
    let errors = b
        .targets
        .iter()
        .zip(&b.actions)
        .enumerate()
        .map(|(i, (t, &a))| f64::from((t - q_all[[i, a]]).abs()));
    errors.sum::<f64>() / BATCH as f64
}

fn train(huber: bool, args: &Args) -> Outcome {
    let flags = &args.flags;
    let name = if huber {
        "huber(target - q, 1)"
    } else {
        "clip(target - q, -1, 1)^2"
    };
    let mut rng = SeededRng::new(flags.seed);
    let truth: Array2<f32> = init::normal((FEATURES, ACTIONS), REWARD_SCALE, &mut rng);
    let mut model = Sequential::new();
    model
        .push("fc1", Affine::new(FEATURES, 64, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(64, ACTIONS, &mut rng));
    model.set_monitor(Monitor::default());
    let mut optimizer = Adam::new(0.01);
    let held_out = batch(&truth, &mut SeededRng::new(flags.seed ^ 0x5eed));
    flags.say(format_args!("\nloss {name}:"));
    flags.say(format_args!(
        "{:>5}  {:>24}  {:>26}",
        "step", "mean |TD error| held out", "samples with zero gradient"
    ));
    let (mut error, mut zeroed) = (f64::NAN, f64::NAN);
    for step in 1..=args.steps {
        let b = batch(&truth, &mut rng);
        model.zero_grad();
        let q_all = model.forward_train_as::<Ix2>(&b.states);
        let d_q_all = if huber {
            let (_, saved) = huber_td_loss_train(q_all.view(), b.actions.view(), b.targets.view());
            huber_td_loss_backward(&saved, 1.0).q_all
        } else {
            let (_, saved) =
                clipped_td_loss_train(q_all.view(), b.actions.view(), b.targets.view());
            clipped_td_loss_backward(&saved, 1.0).q_all
        };
        let monitor = model.monitor_mut().expect("attached above");
        monitor.observe_zeroed_by_clip("td_loss", &d_q_all);
        zeroed = monitor.clips[0].zeroed.last().map_or(f64::NAN, |z| z.1);
        model.backward_params(&d_q_all);
        optimizer.step(&mut model);
        if step % (args.steps / 10).max(1) == 0 || step == args.steps {
            let q = model.predict_as::<Ix2>(&held_out.states);
            error = mean_error(&q, &held_out);
            flags.say(format_args!(
                "{step:>5}  {error:>24.3}  {:>25.1}%",
                100.0 * zeroed
            ));
        }
    }
    Outcome {
        name,
        error,
        zeroed,
        monitor: model.take_monitor().expect("attached above"),
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let flags = &args.flags;
    flags.say(format_args!(
        "Q-network {FEATURES} -> 64 ReLU -> {ACTIONS}, Adam lr 0.01, batches of {BATCH}, \
         targets of about {REWARD_SCALE} times the state's scale"
    ));
    let broken = train(false, args);
    let mut last = flags.findings(broken.name, &broken.monitor)?;
    if flags.fix {
        flags.apply_advice(&last, &[FindingKind::ZeroedByClip]);
        let fixed = train(true, args);
        last = flags.findings(fixed.name, &fixed.monitor)?;
        flags.say(format_args!(
            "\n{:<26}  {:>24}  {:>26}",
            "before and after", "mean |TD error| held out", "samples with zero gradient"
        ));
        for o in [&broken, &fixed] {
            flags.say(format_args!(
                "{:<26}  {:>24.3}  {:>25.1}%",
                o.name,
                o.error,
                100.0 * o.zeroed
            ));
        }
    }
    flags.finish(&last);
    Ok(())
}

fn main() -> ExitCode {
    leak::exit(run(&Args::parse()))
}
