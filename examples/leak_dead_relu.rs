//! Leak 2, dead ReLUs: a learning rate large enough to knock the first layer's
//! weights over leaves most ReLU units negative for every example; they get no
//! gradient again, and stay dead.
//!
//! ```sh
//! cargo run --release --example leak_dead_relu            # the failure, and the doctor's findings
//! cargo run --release --example leak_dead_relu -- --fix   # the advice applied, before and after
//! cargo run --release --example leak_dead_relu -- --json  # the findings as JSON
//! ```
//!
//! A digits classifier, 64 pixels (scaled to `[0, 1]`) -> 128 ReLU -> 10 scores,
//! He-initialized, trained with SGD and momentum 0.9. The failing run uses a
//! learning rate of 0.5; the fix is the doctor's first advice, a learning rate
//! 50 times lower.

#[path = "common/leak.rs"]
mod leak;

use std::error::Error;
use std::process::ExitCode;

use backprop::SeededRng;
use backprop::data::{DIGITS_MAX_PIXEL, digits};
use backprop::layers::{Affine, Relu};
use backprop::model::Sequential;
use backprop::monitor::{ActivationStats, FindingKind, Monitor};
use backprop::optim::Momentum;
use backprop::train::{EpochOptions, evaluate, shuffle_rng, train_epoch};
use clap::Parser;
use leak::LeakFlags;

/// Reproduce dead ReLUs, let the doctor find them, and fix them.
#[derive(Parser, Debug)]
struct Args {
    #[command(flatten)]
    flags: LeakFlags,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// The learning rate of the failing run.
    #[arg(long, default_value_t = 0.5)]
    lr: f64,
}

/// What a run ended with.
struct Outcome {
    lr: f64,
    loss: f64,
    accuracy: f64,
    dead: f64,
    monitor: Monitor,
}

/// The ReLU layer's statistics.
fn relu_stats(monitor: &Monitor) -> &ActivationStats {
    monitor
        .activations
        .iter()
        .find(|a| a.layer == "relu")
        .expect("the model's ReLU layer is monitored")
}

fn train(lr: f64, args: &Args) -> Outcome {
    let flags = &args.flags;
    let data = digits::<f32>().divide_features(f32::from(DIGITS_MAX_PIXEL));
    let split = data.split(0.2, 2024);
    let mut rng = SeededRng::new(flags.seed);
    let mut model = Sequential::new();
    model
        .push("fc1", Affine::new(64, 128, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(128, 10, &mut rng));
    model.set_monitor(Monitor::default());
    let mut optimizer = Momentum::new(lr);
    let options = EpochOptions::new(32);
    flags.say(format_args!("\nlearning rate {lr}:"));
    flags.say(format_args!(
        "{:>5}  {:>10}  {:>9}  {:>22}  {:>20}",
        "epoch", "train loss", "test acc", "units dead this epoch", "died in training"
    ));
    let (mut loss, mut accuracy, mut dead) = (f64::NAN, f64::NAN, f64::NAN);
    for epoch in 0..args.epochs {
        let stats = train_epoch(
            &mut model,
            &mut optimizer,
            &split.train.features,
            &split.train.labels,
            &options,
            &mut shuffle_rng(flags.seed, epoch as u64),
            &mut |_| {},
        );
        let test = evaluate(&model, &split.test.features, &split.test.labels, 256);
        let relu = relu_stats(model.monitor().expect("attached above"));
        dead = relu.dead_in_epoch.last().map_or(f64::NAN, |d| d.1);
        let died = relu.died.last().map_or(0.0, |d| d.1);
        flags.say(format_args!(
            "{:>5}  {:>10.4}  {:>8.1}%  {:>21.1}%  {:>19.1}%",
            epoch + 1,
            stats.loss,
            100.0 * test.accuracy,
            100.0 * dead,
            100.0 * died
        ));
        (loss, accuracy) = (stats.loss, test.accuracy);
    }
    Outcome {
        lr,
        loss,
        accuracy,
        dead,
        monitor: model.take_monitor().expect("attached above"),
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let flags = &args.flags;
    flags.say(format_args!(
        "digits: 64 -> 128 ReLU -> 10, He initialization, SGD with momentum 0.9, {} epochs",
        args.epochs
    ));
    let broken = train(args.lr, args);
    let mut last = flags.findings(&format!("lr {}", args.lr), &broken.monitor)?;
    if flags.fix {
        flags.apply_advice(&last, &[FindingKind::DeadRelu]);
        let fixed = train(args.lr / 50.0, args);
        last = flags.findings(&format!("lr {}", fixed.lr), &fixed.monitor)?;
        flags.say(format_args!(
            "\n{:<16}  {:>10}  {:>9}  {:>10}",
            "before and after", "train loss", "test acc", "dead units"
        ));
        for o in [&broken, &fixed] {
            flags.say(format_args!(
                "{:<16}  {:>10.4}  {:>8.1}%  {:>9.1}%",
                format!("lr {}", o.lr),
                o.loss,
                100.0 * o.accuracy,
                100.0 * o.dead
            ));
        }
    }
    flags.finish(&last);
    Ok(())
}

fn main() -> ExitCode {
    leak::exit(run(&Args::parse()))
}
