//! Train a classifier on the handwritten digits: the main example.
//!
//! ```sh
//! cargo run --release --example train_digits                # an MLP, under a second
//! cargo run --release --example train_digits -- --model cnn # a small CNN
//! cargo run --release --example train_digits -- --help      # every flag
//! ```
//!
//! The 1,797 8x8 digits ship with the crate (nothing is downloaded). The example
//! scales the pixels to `[0, 1]`, splits the set 80/20 with every class in the
//! same proportion in both parts, trains with Adam in shuffled minibatches (a
//! progress bar per epoch shows the running loss and accuracy), and reports the
//! accuracy on the held-out 20%. In the output directory (`out/` by default) it
//! writes a checkpoint (the parameters and Adam's state, a safetensors file) and
//! an SVG plot of the loss and accuracy per epoch. It ends by printing the
//! backward passes `#[differentiable]` generated for the layers it used.
//!
//! The same flags give bit-identical results, down to the parameter checksum
//! printed at the end.

mod common;

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use backprop::data::{DIGITS_MAX_PIXEL, DIGITS_SIDE, Dataset, digits};
use backprop::layers::{Affine, Conv2d, Flatten, MaxPool2, Relu};
use backprop::model::Sequential;
use backprop::monitor::Monitor;
use backprop::ndarray::{ArrayD, Axis};
use backprop::optim::{Adam, CosineLr, LrSchedule, Optimizer};
use backprop::prelude::*;
use backprop::train::{
    EpochOptions, EpochStats, evaluate, save_training_checkpoint, shuffle_rng, train_epoch,
};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

/// The seed of the 80/20 split, fixed so that every run is tested on the same digits.
const SPLIT_SEED: u64 = 2024;

/// Train a classifier on the handwritten digits and save it with a plot of its training.
#[derive(Parser, Debug)]
struct Args {
    /// Which network to train.
    #[arg(long, value_enum, default_value_t = ModelKind::Mlp)]
    model: ModelKind,
    /// Passes over the training set, at least 1.
    #[arg(long, default_value_t = 30, value_parser = at_least_one, allow_negative_numbers = true)]
    epochs: usize,
    /// Adam's peak learning rate, greater than 0 (cosine decay over the epochs).
    #[arg(long, default_value_t = 0.005, value_parser = positive, allow_negative_numbers = true)]
    lr: f64,
    /// Examples per minibatch, at least 1.
    #[arg(long, default_value_t = 32, value_parser = at_least_one, allow_negative_numbers = true)]
    batch_size: usize,
    /// Seed of the initialization and of the shuffles (the split is fixed).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the checkpoint and the plot go (created if missing).
    #[arg(long, default_value = "out")]
    out_dir: PathBuf,
    /// Print only the final results: no progress bars, no line per epoch.
    #[arg(long, short)]
    quiet: bool,
    /// Watch training with the runtime monitors: print the doctor's findings at
    /// the end, and write them as JSON (`doctor.json`) and SVG plots (`doctor/`)
    /// in the output directory.
    #[arg(long)]
    doctor: bool,
}

/// The network to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModelKind {
    /// 64 pixels -> 128 ReLU units -> 10 scores.
    Mlp,
    /// Conv 3x3 (8 filters) -> ReLU -> 2x2 max-pool -> 64 ReLU units -> 10 scores.
    Cnn,
}

impl ModelKind {
    fn name(self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
        }
    }
}

/// A value for `--epochs` and `--batch-size`: a whole number, at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".to_string()),
        Err(_) if text.parse::<i64>().is_ok() => Err("must be at least 1".to_string()),
        Err(_) => Err("must be a whole number, at least 1".to_string()),
    }
}

/// A value for `--lr`: a finite number greater than 0.
fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        Ok(_) => Err("must be a finite number greater than 0".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The network, initialized from `seed`.
fn build(kind: ModelKind, seed: u64) -> Sequential<f32> {
    let mut rng = backprop::SeededRng::new(seed);
    let mut model = Sequential::new();
    match kind {
        ModelKind::Mlp => {
            model
                .push("fc1", Affine::new(64, 128, &mut rng))
                .push("relu1", Relu::new())
                .push("fc2", Affine::new(128, 10, &mut rng));
        }
        ModelKind::Cnn => {
            model
                .push("conv", Conv2d::new(1, 8, 3, 1, 1, &mut rng))
                .push("relu_conv", Relu::new()) // the same layer on [batch, channels, h, w]
                .push("pool", MaxPool2)
                .push("flatten", Flatten)
                .push("fc1", Affine::new(8 * 4 * 4, 64, &mut rng))
                .push("relu1", Relu::new())
                .push("fc2", Affine::new(64, 10, &mut rng));
        }
    }
    model
}

/// The examples as the model takes them: rows of pixels, or 1-channel images.
fn inputs(kind: ModelKind, data: &Dataset<f32>) -> ArrayD<f32> {
    match kind {
        ModelKind::Mlp => data.features.clone().into_dyn(),
        ModelKind::Cnn => data.to_images(DIGITS_SIDE, DIGITS_SIDE).into_dyn(),
    }
}

/// One line of the training history.
struct Epoch {
    train: EpochStats,
    test: EpochStats,
}

fn main() -> ExitCode {
    common::quiet_on_broken_pipe();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    // Before training, so that a bad directory costs no time.
    prepare_out_dir(&args.out_dir)?;

    let data = digits::<f32>().divide_features(f32::from(DIGITS_MAX_PIXEL));
    let split = data.split(0.2, SPLIT_SEED);
    let (x_train, x_test) = (
        inputs(args.model, &split.train),
        inputs(args.model, &split.test),
    );
    let epochs = args.epochs;
    let batch_size = args.batch_size;

    let mut model = build(args.model, args.seed);
    if args.doctor {
        model.set_monitor(Monitor::default());
    }
    let mut optimizer = Adam::new(args.lr);
    let options = EpochOptions::new(batch_size);
    let schedule = CosineLr::new(args.lr, epochs);
    if !args.quiet {
        println!(
            "digits: {} training and {} test images; {} with {} parameters; {epochs} epochs, \
             batches of {batch_size}, Adam lr {}, seed {}",
            split.train.len(),
            split.test.len(),
            args.model.name(),
            model.num_params(),
            args.lr,
            args.seed
        );
    }

    let mut history = Vec::new();
    for epoch in 0..epochs {
        optimizer.set_learning_rate(schedule.lr(epoch));
        let bar = progress_bar(
            args.quiet,
            x_train.len_of(Axis(0)),
            batch_size,
            epoch,
            epochs,
        );
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0, 0);
        let train = train_epoch(
            &mut model,
            &mut optimizer,
            &x_train,
            &split.train.labels,
            &options,
            &mut shuffle_rng(args.seed, epoch as u64),
            &mut |step| {
                loss_sum += step.loss * step.examples as f64;
                correct += step.correct.unwrap_or(0);
                seen += step.examples;
                bar.set_message(format!(
                    "loss {:.4}  acc {:5.1}%",
                    loss_sum / seen as f64,
                    100.0 * correct as f64 / seen as f64
                ));
                bar.inc(1);
            },
        );
        bar.finish_and_clear();
        let test = evaluate(&model, &x_test, &split.test.labels, 256);
        if !args.quiet {
            println!(
                "epoch {:>3}/{epochs}  loss {:.4}  train {:5.1}%  test {:5.1}%",
                epoch + 1,
                train.loss,
                100.0 * train.accuracy,
                100.0 * test.accuracy
            );
        }
        history.push(Epoch { train, test });
    }
    let elapsed = started.elapsed();
    let test = history.last().expect("at least one epoch").test;

    let stem = format!("digits-{}", args.model.name());
    let checkpoint = args.out_dir.join(format!("{stem}.safetensors"));
    let metadata = BTreeMap::from([
        ("model".to_string(), args.model.name().to_string()),
        ("epochs".to_string(), epochs.to_string()),
        ("lr".to_string(), args.lr.to_string()),
        ("batch_size".to_string(), batch_size.to_string()),
        ("seed".to_string(), args.seed.to_string()),
        ("test_accuracy".to_string(), test.accuracy.to_string()),
    ]);
    save_training_checkpoint(&checkpoint, &mut model, &optimizer, &metadata)
        .map_err(|e| format!("cannot save the checkpoint: {e}"))?;
    let plot = args.out_dir.join(format!("{stem}.svg"));
    plot_history(&plot, args.model.name(), &history)
        .map_err(|e| format!("cannot write the plot {}: {e}", plot.display()))?;

    if !args.quiet {
        println!();
    }
    println!(
        "test accuracy: {:.2}% ({} of {} held-out digits), loss {:.4}, after {epochs} epochs in {:.1} s",
        100.0 * test.accuracy,
        (test.accuracy * test.examples as f64).round(),
        test.examples,
        test.loss,
        elapsed.as_secs_f64()
    );
    println!(
        "parameter checksum: {:016x} (the same flags give the same value)",
        checksum(&mut model)
    );
    println!(
        "checkpoint (parameters + Adam state under `optim.`): {}",
        checkpoint.display()
    );
    println!("plot of loss and accuracy per epoch: {}", plot.display());
    if let Some(monitor) = model.monitor() {
        let report = monitor.report();
        let json = args.out_dir.join("doctor.json");
        fs::write(&json, report.to_json())
            .map_err(|e| format!("cannot write {}: {e}", json.display()))?;
        let plots = monitor.write_plots(&args.out_dir.join("doctor"))?;
        println!("\n{report}findings as JSON: {}", json.display());
        for plot in plots {
            println!("plot: {}", plot.display());
        }
    }
    if !args.quiet {
        explain_backward(args.model);
    }
    Ok(())
}

/// Creates `dir` if needed and checks that a file can be written in it.
fn prepare_out_dir(dir: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| {
        format!(
            "cannot write to the output directory {}: {e} (choose another with --out-dir)",
            dir.display()
        )
    };
    fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".train_digits.probe");
    fs::write(&probe, b"").map_err(fail)?;
    fs::remove_file(&probe).map_err(fail)
}

/// A bar over the batches of one epoch, or a hidden one in quiet mode. (indicatif
/// also hides it when the output is not a terminal.)
fn progress_bar(
    quiet: bool,
    examples: usize,
    batch_size: usize,
    epoch: usize,
    epochs: usize,
) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(examples.div_ceil(batch_size) as u64);
    let style = ProgressStyle::with_template("epoch {prefix} [{bar:25}] {pos:>3}/{len}  {msg}")
        .expect("a valid template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{:>3}/{epochs}", epoch + 1));
    bar
}

/// A 64-bit FNV-1a hash of every parameter's bits, in order.
fn checksum(model: &mut Sequential<f32>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    model.visit_params(&mut |p| {
        for v in p.value.iter() {
            for byte in v.to_bits().to_le_bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    });
    hash
}

/// Two panels side by side: the training loss, and the train and test accuracy, per epoch.
fn plot_history(path: &Path, model: &str, history: &[Epoch]) -> Result<(), Box<dyn Error>> {
    use plotters::prelude::*;

    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);
    let max_loss = history
        .iter()
        .map(|e| e.train.loss.max(e.test.loss))
        .fold(0.0, f64::max);
    let lowest = history
        .iter()
        .map(|e| e.train.accuracy.min(e.test.accuracy))
        .fold(1.0, f64::min);
    let loss = Panel {
        title: format!("digits, {model}: loss"),
        y_desc: "cross-entropy",
        y_range: 0.0..max_loss * 1.05,
        train_label: "train (running mean)",
        value: |s| s.loss,
        legend: SeriesLabelPosition::MiddleRight,
    };
    let accuracy = Panel {
        title: format!("digits, {model}: accuracy (%)"),
        y_desc: "accuracy (%)",
        y_range: (100.0 * lowest - 2.0).max(0.0)..100.0,
        train_label: "train (running)",
        value: |s| 100.0 * s.accuracy,
        legend: SeriesLabelPosition::LowerRight,
    };
    loss.draw(&left, history)?;
    accuracy.draw(&right, history)?;
    root.present()?;
    Ok(())
}

/// One chart of the plot: a train and a test curve per epoch.
struct Panel {
    title: String,
    y_desc: &'static str,
    y_range: std::ops::Range<f64>,
    train_label: &'static str,
    value: fn(&EpochStats) -> f64,
    legend: plotters::chart::SeriesLabelPosition,
}

impl Panel {
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        area: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
        history: &[Epoch],
    ) -> Result<(), Box<dyn Error>>
    where
        DB::ErrorType: 'static,
    {
        use plotters::prelude::*;

        // Whole epochs on the x axis, 1 to the last (at least 2, for a non-empty range).
        let epochs = history.len().max(2) as u32;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(1..epochs, self.y_range.clone())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(self.y_desc)
            .draw()?;
        let curve = |stats: fn(&Epoch) -> &EpochStats| -> Vec<(u32, f64)> {
            history
                .iter()
                .enumerate()
                .map(|(i, e)| (i as u32 + 1, (self.value)(stats(e))))
                .collect()
        };
        for (label, color, values) in [
            (self.train_label, BLUE, curve(|e| &e.train)),
            ("test", RED, curve(|e| &e.test)),
        ] {
            chart
                .draw_series(LineSeries::new(values, color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(self.legend.clone())
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        Ok(())
    }
}

/// Prints the generated backward passes of the layers used, and where to read them.
fn explain_backward(kind: ModelKind) {
    println!("\nThe backward passes were generated by #[differentiable] from the forward passes.");
    println!("`affine` (layers fc1, fc2: `x.dot(&w) + &b`), backward:\n");
    println!(
        "{}",
        indent(backprop::layers::affine_dyn::<f32>().backward_source)
    );
    println!(
        "`softmax_cross_entropy` (the loss: `-pick(log_softmax(scores, Axis(1)), &labels).mean()`), backward:\n"
    );
    println!(
        "{}",
        indent(backprop::losses::softmax_cross_entropy_dyn::<f32>().backward_source)
    );
    if kind == ModelKind::Cnn {
        println!("`conv2d_layer` (layer conv: `conv2d(x, w, stride, pad) + &bias`), backward:\n");
        println!(
            "{}",
            indent(backprop::layers::conv2d_layer_dyn::<f32>().backward_source)
        );
    }
    println!(
        "Each statement sits under the forward line it comes from; read it bottom-up against \
         the forward.\nThe same text is in the rustdoc of each `*_backward` function: run \
         `cargo doc --open` and look up `affine_backward` (module `backprop::layers`) or \
         `softmax_cross_entropy_backward` (module `backprop::losses`)."
    );
}

fn indent(source: &str) -> String {
    source.lines().map(|l| format!("    {l}\n")).collect()
}
