//! The adding problem: an LSTM and a GRU remember across 50 time steps, a vanilla RNN struggles.
//!
//! ```sh
//! cargo run --release --example adding_lstm
//! cargo run --release --example adding_lstm -- --steps 3000 --hidden 64 --seed 1
//! ```
//!
//! Each sequence has 50 steps of two inputs: a random value in `[0, 1)` and a
//! marker that is 1 at exactly two steps (one in each half) and 0 elsewhere. The
//! target is the sum of the two marked values (Hochreiter and Schmidhuber, 1997).
//! Always answering 1.0, the mean target, gives a mean squared error of 1/6, about
//! 0.167; doing better means remembering a value seen up to 49 steps earlier.
//!
//! Three models are trained the same way (the same batches, Adam, gradients
//! clipped to a global norm of 1) and compared on a fixed test set:
//! `Lstm -> LastStep -> Affine(hidden, 1)`, the same with a GRU whose cell is
//! written in this file (`gru_cell`, a `#[differentiable]` function, and the
//! dozen lines of `Cell` around it, run over time by `layers::Recurrent`), and
//! with a vanilla `Rnn`. All three run the library's one loop over time and its
//! backpropagation (`layers::unroll`, `layers::backprop_through_time`).

mod common;

use std::time::Instant;

use backprop::data::{AddingProblem, adding_problem};
use backprop::layers::{Affine, LastStep, Lstm, Recurrent, Rnn};
use backprop::losses::mse;
use backprop::model::Sequential;
use backprop::monitor::Monitor;
use backprop::ndarray::{Array2, ArrayView1, ArrayView2, Ix1, Ix2};
use backprop::optim::Adam;
use backprop::prelude::*;
use backprop::train::{Target, train_step};
use backprop::{SeededRng, init};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

/// The seed of the test set; training batches are drawn from other seeds.
const TEST_SEED: u64 = 0x7e57;
/// Sequences in the test set.
const TEST_SIZE: usize = 1000;
/// The largest global gradient norm.
const CLIP_NORM: f64 = 1.0;

/// Train an LSTM and a vanilla RNN on the adding problem and compare them with the
/// trivial baseline.
#[derive(Parser, Debug)]
struct Args {
    /// Optimization steps (one fresh batch each), at least 1.
    #[arg(long, default_value_t = 2000, value_parser = at_least_one, allow_negative_numbers = true)]
    steps: usize,
    /// Hidden units of each recurrent layer, at least 1.
    #[arg(long, default_value_t = 32, value_parser = at_least_one, allow_negative_numbers = true)]
    hidden: usize,
    /// Sequence length T, at least 2.
    #[arg(long, default_value_t = 50, value_parser = at_least_two, allow_negative_numbers = true)]
    seq_len: usize,
    /// Sequences per batch, at least 1.
    #[arg(long, default_value_t = 64, value_parser = at_least_one, allow_negative_numbers = true)]
    batch_size: usize,
    /// Adam's learning rate, greater than 0.
    #[arg(long, default_value_t = 0.005, value_parser = positive, allow_negative_numbers = true)]
    lr: f64,
    /// Seed of the initialization and of the training batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print only the final results.
    #[arg(long, short)]
    quiet: bool,
    /// Watch both models with the runtime monitors and print the doctor's findings at the end.
    #[arg(long)]
    doctor: bool,
}

/// A whole number at least `min`.
fn at_least(text: &str, min: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Err(_) if text.parse::<i64>().is_err() => {
            Err(format!("must be a whole number, at least {min}"))
        }
        _ => Err(format!("must be at least {min}")),
    }
}

fn at_least_one(text: &str) -> Result<usize, String> {
    at_least(text, 1)
}

fn at_least_two(text: &str) -> Result<usize, String> {
    at_least(text, 2)
}

/// A finite number greater than 0.
fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        Ok(_) => Err("must be a finite number greater than 0".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// One step of a GRU (Cho et al., 2014), written here as any user would write a
/// cell: update gate `z`, reset gate `r`, candidate `n`, then
/// `h = (1 - z) n + z h_prev`. Its backward is generated like the library's
/// cells; `cell = Gru` makes the struct below a `layers::Cell` (the inputs after
/// `h_prev` are its fields), which `layers::Recurrent` runs over time, and
/// `recurrence = wh` tells the monitors which matrix multiplies the state.
#[differentiable(cell = Gru, recurrence = wh)]
pub fn gru_cell<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    let n = h_prev.ncols();
    let gx = x.dot(&wx) + &b;
    let z = sigmoid(gx.slice_axis(Axis(1), 0..n) + h_prev.dot(&wh.slice_axis(Axis(1), 0..n)));
    let r =
        sigmoid(gx.slice_axis(Axis(1), n..2 * n) + h_prev.dot(&wh.slice_axis(Axis(1), n..2 * n)));
    let candidate = tanh(
        gx.slice_axis(Axis(1), 2 * n..3 * n)
            + (r * &h_prev).dot(&wh.slice_axis(Axis(1), 2 * n..3 * n)),
    );
    (1.0 - &z) * candidate + z * &h_prev
}

/// The GRU's parameters: input weights `[inputs, 3 hidden]` (Xavier), recurrent
/// weights `[hidden, 3 hidden]` (orthogonal) and a zero bias, gate blocks z, r, n.
pub struct Gru<T: Real> {
    wx: Param<T, Ix2>,
    wh: Param<T, Ix2>,
    b: Param<T, Ix1>,
}

impl<T: Real> Gru<T> {
    fn new(inputs: usize, hidden: usize, rng: &mut SeededRng) -> Self {
        Gru {
            wx: Param::new(init::xavier_uniform((inputs, 3 * hidden), rng)),
            wh: Param::new(init::orthogonal((hidden, 3 * hidden), 1.0, rng)),
            b: Param::new(init::zeros(3 * hidden)),
        }
    }
}

/// A recurrent layer, the last hidden state, and a linear read-out of one value.
fn build(recurrent: &str, hidden: usize, seed: u64) -> Sequential<f32> {
    let mut rng = SeededRng::new(seed);
    let mut model = Sequential::new();
    match recurrent {
        "lstm" => model.push("lstm", Lstm::new(2, hidden, &mut rng)),
        // The user's cell over time, from a learned initial state.
        "gru" => model.push("gru", Recurrent::new(Gru::new(2, hidden, &mut rng), hidden)),
        _ => model.push("rnn", Rnn::new(2, hidden, &mut rng)),
    };
    model
        .push("last", LastStep::new())
        .push("out", Affine::xavier(hidden, 1, &mut rng));
    model
}

/// The mean squared error of `model` on `data`.
fn test_mse(model: &Sequential<f32>, data: &AddingProblem<f32>) -> f64 {
    let pred = model.predict_as::<Ix2>(&data.inputs);
    f64::from(mse(pred.view(), data.targets.view()))
}

/// One model and what is tracked of it.
struct Run {
    /// The name in the report.
    name: &'static str,
    model: Sequential<f32>,
    optimizer: Adam<f32>,
    /// An exponential moving average of the training loss.
    recent_loss: Option<f64>,
}

fn main() {
    common::quiet_on_broken_pipe();
    let args = Args::parse();
    let started = Instant::now();
    let test = adding_problem::<f32>(TEST_SIZE, args.seq_len, TEST_SEED);
    let baseline = f64::from(mse(test.targets.mapv(|_| 1.0).view(), test.targets.view()));

    let mut runs = [
        ("LSTM", "lstm"),
        ("GRU (a user's cell)", "gru"),
        ("vanilla RNN", "rnn"),
    ]
    .map(|(name, layer)| Run {
        name,
        model: build(layer, args.hidden, args.seed),
        optimizer: Adam::new(args.lr),
        recent_loss: None,
    });
    if args.doctor {
        for run in &mut runs {
            run.model.set_monitor(Monitor::default());
        }
    }
    if !args.quiet {
        println!(
            "adding problem, T = {}: {} steps of {} sequences, {} hidden units, Adam lr {}, \
             gradients clipped to norm {CLIP_NORM}, seed {}",
            args.seq_len, args.steps, args.batch_size, args.hidden, args.lr, args.seed
        );
        println!(
            "test set: {TEST_SIZE} sequences; predicting 1.0 always gives MSE {baseline:.4}\n"
        );
        println!(
            "{:>6}  {:>12}  {:>12}  {:>12}",
            "step", "LSTM test", "GRU test", "RNN test"
        );
    }

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.steps as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} steps  {msg}  ({eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let report_every = (args.steps / 10).max(1);
    // Training batches come from seeds drawn from the run's seed and the step.
    let mut batch_seeds = SeededRng::new(args.seed).fork();
    for step in 1..=args.steps {
        let batch = adding_problem::<f32>(args.batch_size, args.seq_len, batch_seeds.next_u64());
        for run in &mut runs {
            let stats = train_step(
                &mut run.model,
                &mut run.optimizer,
                &batch.inputs,
                Target::Values(batch.targets.view()),
                Some(CLIP_NORM),
            );
            run.recent_loss = Some(match run.recent_loss {
                Some(avg) => 0.98 * avg + 0.02 * stats.loss,
                None => stats.loss,
            });
        }
        bar.set_message(format!(
            "training MSE: LSTM {:.4}, GRU {:.4}, RNN {:.4}",
            runs[0].recent_loss.unwrap_or(f64::NAN),
            runs[1].recent_loss.unwrap_or(f64::NAN),
            runs[2].recent_loss.unwrap_or(f64::NAN)
        ));
        bar.inc(1);
        if !args.quiet && (step % report_every == 0 || step == args.steps) {
            bar.suspend(|| {
                println!(
                    "{step:>6}  {:>12.4}  {:>12.4}  {:>12.4}",
                    test_mse(&runs[0].model, &test),
                    test_mse(&runs[1].model, &test),
                    test_mse(&runs[2].model, &test)
                );
            });
        }
    }
    bar.finish_and_clear();

    if !args.quiet {
        println!();
    }
    println!(
        "test MSE after {} steps (T = {}):",
        args.steps, args.seq_len
    );
    for run in &runs {
        let value = test_mse(&run.model, &test);
        println!(
            "  {:<22} {value:.4}  ({:.1}% of the baseline)",
            run.name,
            100.0 * value / baseline
        );
    }
    println!("  {:<22} {baseline:.4}", "baseline (always 1.0)");
    println!("time: {:.1} s", started.elapsed().as_secs_f64());
    for run in &runs {
        if let Some(monitor) = run.model.monitor() {
            println!("\nthe doctor, {}:\n{}", run.name, monitor.report());
        }
    }
}
