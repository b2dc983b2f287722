//! Leak 1, saturated sigmoids: the loss sits flat while every sigmoid is pinned
//! at 0 or 1, where its local gradient `z (1 - z)` is almost 0.
//!
//! ```sh
//! cargo run --release --example leak_saturation            # the failure, and the doctor's findings
//! cargo run --release --example leak_saturation -- --fix   # the advice applied, before and after
//! cargo run --release --example leak_saturation -- --json  # the findings as JSON
//! ```
//!
//! A digits classifier, 64 pixels -> 64 sigmoid -> 32 sigmoid -> 10 scores, trained
//! with plain SGD. The failing run feeds the raw pixel values (0 to 16) into
//! weights drawn with a standard deviation of 4, so every pre-activation is tens
//! of units from 0. The fix is the doctor's advice: inputs scaled to `[0, 1]`
//! and Xavier initialization (`Affine::xavier`).

#[path = "common/leak.rs"]
mod leak;

use std::error::Error;
use std::process::ExitCode;

use backprop::SeededRng;
use backprop::data::{DIGITS_MAX_PIXEL, Dataset, digits};
use backprop::init;
use backprop::layers::{Affine, Sigmoid};
use backprop::model::Sequential;
use backprop::monitor::{FindingKind, Monitor};
use backprop::optim::Momentum;
use backprop::train::{EpochOptions, evaluate, shuffle_rng, train_epoch};
use clap::Parser;
use leak::LeakFlags;

/// Reproduce saturated sigmoids, let the doctor find them, and fix them.
#[derive(Parser, Debug)]
struct Args {
    #[command(flatten)]
    flags: LeakFlags,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
}

/// One way to set the network up.
struct Setup {
    name: &'static str,
    /// Pixels divided by 16 (`true`) or raw.
    normalized: bool,
    /// Xavier weights (`true`) or a standard deviation of 4.
    xavier: bool,
}

const BROKEN: Setup = Setup {
    name: "raw pixels, weights with std 4",
    normalized: false,
    xavier: false,
};
const FIXED: Setup = Setup {
    name: "pixels in [0, 1], Xavier weights",
    normalized: true,
    xavier: true,
};

/// `inputs -> outputs` weights of the setup.
fn affine(setup: &Setup, inputs: usize, outputs: usize, rng: &mut SeededRng) -> Affine<f32> {
    if setup.xavier {
        Affine::xavier(inputs, outputs, rng)
    } else {
        Affine::from_arrays(
            init::normal((inputs, outputs), 4.0, rng),
            init::zeros(outputs),
        )
    }
}

fn model(setup: &Setup, seed: u64) -> Sequential<f32> {
    let mut rng = SeededRng::new(seed);
    let mut model = Sequential::new();
    model
        .push("fc1", affine(setup, 64, 64, &mut rng))
        .push("sigmoid1", Sigmoid::new())
        .push("fc2", affine(setup, 64, 32, &mut rng))
        .push("sigmoid2", Sigmoid::new())
        .push("fc3", affine(setup, 32, 10, &mut rng));
    model
}

/// What a run ended with.
struct Outcome {
    loss: f64,
    accuracy: f64,
    saturated: f64,
    monitor: Monitor,
}

/// The mean saturated fraction of `layer` measured after `step`.
fn saturated_after(monitor: &Monitor, layer: &str, step: u64) -> f64 {
    let Some(a) = monitor.activations.iter().find(|a| a.layer == layer) else {
        return f64::NAN;
    };
    let recent: Vec<f64> = a
        .saturated
        .iter()
        .filter(|s| s.0 > step)
        .map(|s| s.1)
        .collect();
    recent.iter().sum::<f64>() / recent.len().max(1) as f64
}

fn train(setup: &Setup, args: &Args) -> Outcome {
    let flags = &args.flags;
    let data = digits::<f32>();
    let data = if setup.normalized {
        data.divide_features(f32::from(DIGITS_MAX_PIXEL))
    } else {
        data
    };
    let split = data.split(0.2, 2024);
    let mut model = model(setup, flags.seed);
    model.set_monitor(Monitor::default());
    let mut sgd = Momentum::new(0.05);
    let options = EpochOptions::new(32);
    flags.say(format_args!("\n{}:", setup.name));
    flags.say(format_args!(
        "{:>5}  {:>10}  {:>9}  {:>18}  {:>18}",
        "epoch", "train loss", "test acc", "saturated sigmoid1", "saturated sigmoid2"
    ));
    let (mut loss, mut accuracy) = (f64::NAN, f64::NAN);
    for epoch in 0..args.epochs {
        let start = model.monitor().map_or(0, Monitor::step);
        let stats = train_epoch(
            &mut model,
            &mut sgd,
            &split.train.features,
            &split.train.labels,
            &options,
            &mut shuffle_rng(flags.seed, epoch as u64),
            &mut |_| {},
        );
        let test = evaluate(&model, &split.test.features, &split.test.labels, 256);
        let monitor = model.monitor().expect("attached above");
        flags.say(format_args!(
            "{:>5}  {:>10.4}  {:>8.1}%  {:>17.1}%  {:>17.1}%",
            epoch + 1,
            stats.loss,
            100.0 * test.accuracy,
            100.0 * saturated_after(monitor, "sigmoid1", start),
            100.0 * saturated_after(monitor, "sigmoid2", start),
        ));
        (loss, accuracy) = (stats.loss, test.accuracy);
    }
    let monitor = model.take_monitor().expect("attached above");
    let last_epoch = monitor
        .step()
        .saturating_sub(monitor.step() / args.epochs.max(1) as u64);
    Outcome {
        loss,
        accuracy,
        saturated: saturated_after(&monitor, "sigmoid1", last_epoch),
        monitor,
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let flags = &args.flags;
    let sample: Dataset<f32> = digits();
    flags.say(format_args!(
        "digits: 64 -> 64 sigmoid -> 32 sigmoid -> 10, SGD with momentum 0.9, lr 0.05, {} epochs; the raw pixels \
         of the first image: {}",
        args.epochs,
        sample.features.row(0).iter().take(8).map(|p| p.to_string()).collect::<Vec<_>>().join(" ")
    ));
    let broken = train(&BROKEN, args);
    let mut last = flags.findings(BROKEN.name, &broken.monitor)?;
    if flags.fix {
        flags.apply_advice(&last, &[FindingKind::Saturation]);
        let fixed = train(&FIXED, args);
        last = flags.findings(FIXED.name, &fixed.monitor)?;
        flags.say(format_args!(
            "\n{:<36}  {:>10}  {:>9}  {:>18}",
            "before and after", "train loss", "test acc", "saturated sigmoid1"
        ));
        for (setup, o) in [(&BROKEN, &broken), (&FIXED, &fixed)] {
            flags.say(format_args!(
                "{:<36}  {:>10.4}  {:>8.1}%  {:>17.1}%",
                setup.name,
                o.loss,
                100.0 * o.accuracy,
                100.0 * o.saturated
            ));
        }
    }
    flags.finish(&last);
    Ok(())
}

fn main() -> ExitCode {
    leak::exit(run(&Args::parse()))
}
