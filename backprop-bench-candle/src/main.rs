//! W1-W5 with candle's CPU backend and its tape-based autograd (`Var`, `backward`),
//! timed side by side with `backprop-bench`'s hand-written ndarray baselines on the
//! same data, printing a markdown table: median and p10-p90 ms per step, the ratio
//! to the hand-written baseline, and the checksums of the loss and every gradient.
//!
//! ```sh
//! cd backprop-bench-candle && cargo run --release
//! ```
//!
//! candle's matmul runs on rayon with `RAYON_NUM_THREADS` threads; the workloads
//! are specified on one thread, so unless that variable is already `1` the program
//! runs itself again with it set.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use backprop_bench::{
    BASELINE, Checksums, SEED, StepResult, Workload, checksum, w1, w2, w3, w4, w5,
};
use candle_core::backprop::GradStore;
use candle_core::{D, Device, Result, Tensor, Var};
use clap::Parser;
use ndarray::{ArrayD, ArrayRef, Dimension, IxDyn};

/// Compare candle's autograd with the hand-written ndarray baselines.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Timed steps per variant (fewer if `--max-seconds` runs out first).
    #[arg(long, default_value_t = 30)]
    steps: usize,
    /// Untimed steps per variant before timing.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// The workloads to run (`W1`..`W5`, comma-separated); all by default.
    #[arg(long, value_delimiter = ',')]
    workload: Vec<String>,
    /// Stop timing a workload after this many seconds of steps.
    #[arg(long, default_value_t = 8.0)]
    max_seconds: f64,
}

/// An ndarray array as a candle tensor of the same shape.
fn tensor<Dm: Dimension>(a: &ArrayRef<f32, Dm>) -> Result<Tensor> {
    let data: Vec<f32> = a.iter().copied().collect();
    Tensor::from_vec(data, a.shape(), &Device::Cpu)
}

/// Integer indices as a `[n, 1]` u32 tensor, for `gather` along axis 1.
fn index_column(a: &ndarray::Array1<usize>) -> Result<Tensor> {
    let data: Vec<u32> = a
        .iter()
        .map(|&i| u32::try_from(i).expect("an index fits u32"))
        .collect();
    Tensor::from_vec(data, (a.len(), 1), &Device::Cpu)
}

/// A candle tensor as an ndarray array.
fn array(t: &Tensor) -> Result<ArrayD<f32>> {
    let data = t.flatten_all()?.to_vec1::<f32>()?;
    Ok(ArrayD::from_shape_vec(IxDyn(t.dims()), data).expect("the tensor's own shape"))
}

/// A forward pass: the loss built from the parameters.
type Forward = Box<dyn Fn(&[Var]) -> Result<Tensor>>;

/// One workload in candle: parameters as `Var`s, a step that records the forward on
/// the tape and runs `backward`.
struct CandleWorkload {
    /// The forward pass, building the loss from the parameters.
    forward: Forward,
    /// The parameters that take gradients, in the order of the workload's gradients.
    params: Vec<(&'static str, Var)>,
}

impl CandleWorkload {
    /// Forward and backward: the loss and the gradient store.
    fn step(&self) -> Result<(Tensor, GradStore)> {
        let vars: Vec<Var> = self.params.iter().map(|(_, v)| v.clone()).collect();
        let loss = (self.forward)(&vars)?;
        let grads = loss.backward()?;
        Ok((loss, grads))
    }

    /// The loss and gradients of a step, converted for checksums (not timed).
    fn result(&self, (loss, grads): &(Tensor, GradStore)) -> Result<StepResult<f32>> {
        let mut out = Vec::new();
        for (name, v) in &self.params {
            let g = grads
                .get(v.as_tensor())
                .expect("every parameter is on the loss path");
            out.push((*name, array(g)?));
        }
        Ok(StepResult {
            loss: loss.to_scalar::<f32>()?,
            grads: out,
        })
    }
}

/// `log_softmax` along the last axis: the max is taken off the tape (it cancels).
fn log_softmax(x: &Tensor) -> Result<Tensor> {
    let m = x.max_keepdim(D::Minus1)?.detach();
    let shifted = x.broadcast_sub(&m)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    shifted.broadcast_sub(&lse)
}

/// `sigmoid(x) = (1 + tanh(x / 2)) / 2`, exact and overflow-free.
fn sigmoid(x: &Tensor) -> Result<Tensor> {
    x.affine(0.5, 0.0)?.tanh()?.affine(0.5, 0.5)
}

/// `softplus(x) = relu(x) + ln(1 + exp(-|x|))`, overflow-free.
fn softplus(x: &Tensor) -> Result<Tensor> {
    let tail = x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    x.relu()? + tail
}

/// `huber(e, 1)` elementwise: `m^2 / 2 + (|e| - m)` with `m = min(|e|, 1)`.
fn huber1(e: &Tensor) -> Result<Tensor> {
    let a = e.abs()?;
    let m = a.minimum(1.0)?;
    m.sqr()?.affine(0.5, 0.0)? + (a - m)?
}

/// The workload `w` in candle, on the same data as `backprop-bench`'s variants.
fn candle_workload(w: Workload) -> Result<CandleWorkload> {
    let var = |a: ArrayD<f32>| -> Result<Var> { Var::from_tensor(&tensor(&a)?) };
    Ok(match w {
        Workload::W1 => {
            let d = w1::Data::<f32>::new(w1::Sizes::FULL, SEED);
            let x = tensor(&d.x)?;
            let labels = index_column(&d.labels)?;
            let n = d.x.nrows() as f64;
            CandleWorkload {
                params: vec![
                    ("w1", var(d.w1.into_dyn())?),
                    ("b1", var(d.b1.into_dyn())?),
                    ("w2", var(d.w2.into_dyn())?),
                    ("b2", var(d.b2.into_dyn())?),
                ],
                forward: Box::new(move |p| {
                    let h = x.matmul(&p[0])?.broadcast_add(&p[1])?.relu()?;
                    let scores = h.matmul(&p[2])?.broadcast_add(&p[3])?;
                    let picked = log_softmax(&scores)?.gather(&labels, 1)?;
                    picked.sum_all()?.affine(-1.0 / n, 0.0)
                }),
            }
        }
        Workload::W2 => {
            let d = w2::Data::<f32>::new(w2::Sizes::FULL, SEED);
            CandleWorkload {
                params: vec![("x", var(d.x.into_dyn())?)],
                forward: Box::new(|p| {
                    let x = p[0].as_tensor();
                    let gated = (x * sigmoid(&x.affine(1.702, 0.0)?)?)?;
                    let squashed = x.tanh()?.sqr()?.affine(0.5, 0.0)?;
                    let damped = (softplus(x)? / x.sqr()?.affine(1.0, 1.0)?)?;
                    ((gated + squashed)? - damped)?.sum_all()
                }),
            }
        }
        Workload::W3 => {
            let d = w3::Data::<f32>::new(w3::Sizes::FULL, SEED);
            let xs = tensor(&d.xs)?;
            let steps = d.xs.len_of(ndarray::Axis(0));
            CandleWorkload {
                params: vec![
                    ("wx", var(d.wx.into_dyn())?),
                    ("wh", var(d.wh.into_dyn())?),
                    ("b", var(d.b.into_dyn())?),
                    ("h0", var(d.h0.into_dyn())?),
                ],
                forward: Box::new(move |p| {
                    let mut h = p[3].as_tensor().clone();
                    let mut loss: Option<Tensor> = None;
                    for t in 0..steps {
                        let x_t = xs.get(t)?;
                        h = (x_t.matmul(&p[0])? + h.matmul(&p[1])?)?
                            .broadcast_add(&p[2])?
                            .tanh()?;
                        let s = h.sum_all()?;
                        loss = Some(match loss {
                            None => s,
                            Some(l) => (l + s)?,
                        });
                    }
                    Ok(loss.expect("at least one time step"))
                }),
            }
        }
        Workload::W4 => {
            let d = w4::Data::<f32>::new(w4::Sizes::FULL, SEED);
            let dout = tensor(&d.dout)?;
            CandleWorkload {
                params: vec![
                    ("x", var(d.x.into_dyn())?),
                    ("gamma", var(d.gamma.into_dyn())?),
                    ("beta", var(d.beta.into_dyn())?),
                ],
                forward: Box::new(move |p| {
                    let x = p[0].as_tensor();
                    let mu = x.mean_keepdim(0)?;
                    let centered = x.broadcast_sub(&mu)?;
                    let var = centered.sqr()?.mean_keepdim(0)?;
                    let x_hat = centered.broadcast_div(&var.affine(1.0, w4::EPS)?.sqrt()?)?;
                    let out = x_hat.broadcast_mul(&p[1])?.broadcast_add(&p[2])?;
                    (out * &dout)?.sum_all()
                }),
            }
        }
        Workload::W5 => {
            let d = w5::Data::<f32>::new(w5::Sizes::FULL, SEED);
            let s = tensor(&d.s)?;
            let actions = index_column(&d.actions)?;
            let target = tensor(&d.target)?.reshape((d.target.len(), 1))?;
            CandleWorkload {
                params: vec![
                    ("w1", var(d.w1.into_dyn())?),
                    ("b1", var(d.b1.into_dyn())?),
                    ("w2", var(d.w2.into_dyn())?),
                    ("b2", var(d.b2.into_dyn())?),
                ],
                forward: Box::new(move |p| {
                    let h = s.matmul(&p[0])?.broadcast_add(&p[1])?.relu()?;
                    let q = h.matmul(&p[2])?.broadcast_add(&p[3])?;
                    let q_taken = q.gather(&actions, 1)?;
                    huber1(&(&target - q_taken)?)?.mean_all()
                }),
            }
        }
    })
}

/// The `q`-quantile (nearest rank) of sorted step times, in milliseconds.
fn quantile_ms(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize] * 1e3
}

/// The checksums as one table cell.
fn cell(c: &Checksums) -> String {
    let grads: Vec<String> = c
        .grads
        .iter()
        .map(|g| format!("{} {:.6e} (norm {:.6e})", g.name, g.sum, g.norm))
        .collect();
    format!("{:.7e} | {}", c.loss, grads.join(", "))
}

fn main() -> Result<()> {
    if std::env::var("RAYON_NUM_THREADS").as_deref() != Ok("1") {
        // One thread, as the workloads are specified: run again with rayon on one thread.
        let exe = std::env::current_exe().expect("the path of this program");
        let status = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("RAYON_NUM_THREADS", "1")
            .status()
            .expect("run this program again with RAYON_NUM_THREADS=1");
        std::process::exit(status.code().unwrap_or(1));
    }
    let args = Args::parse();
    let workloads: Vec<Workload> = if args.workload.is_empty() {
        Workload::ALL.to_vec()
    } else {
        args.workload
            .iter()
            .map(|s| {
                Workload::parse(s).unwrap_or_else(|| {
                    eprintln!("unknown workload `{s}`: expected W1, W2, W3, W4 or W5");
                    std::process::exit(2)
                })
            })
            .collect()
    };

    println!(
        "candle-core (CPU backend, version in Cargo.lock; RAYON_NUM_THREADS=1), f32, {} timed steps per variant after {} warm-up, interleaved\n",
        args.steps, args.warmup
    );
    let mut timing = Vec::new();
    let mut sums = Vec::new();
    for w in workloads {
        let mut hand = w
            .variants(SEED)
            .into_iter()
            .find(|v| v.name == BASELINE)
            .expect("every workload has a hand-written baseline");
        let candle = candle_workload(w)?;
        for _ in 0..args.warmup {
            black_box(hand.step());
            black_box(candle.step()?);
        }
        let hand_sums = checksum(&hand.step());
        let candle_sums = checksum(&candle.result(&candle.step()?)?);
        let (mut t_hand, mut t_candle) = (Vec::new(), Vec::new());
        let start = Instant::now();
        for i in 0..args.steps {
            for j in 0..2 {
                let t = Instant::now();
                if (i + j) % 2 == 0 {
                    drop(black_box(hand.step()));
                    t_hand.push(t.elapsed().as_secs_f64());
                } else {
                    drop(black_box(candle.step()?));
                    t_candle.push(t.elapsed().as_secs_f64());
                }
            }
            if start.elapsed() > Duration::from_secs_f64(args.max_seconds) {
                break;
            }
        }
        t_hand.sort_by(f64::total_cmp);
        t_candle.sort_by(f64::total_cmp);
        let base = quantile_ms(&t_hand, 0.5);
        for (name, t) in [(BASELINE, &t_hand), ("candle", &t_candle)] {
            let median = quantile_ms(t, 0.5);
            timing.push(format!(
                "| {} | {} | {:.3} | {:.3}-{:.3} | {:.2}x |",
                w.id(),
                name,
                median,
                quantile_ms(t, 0.1),
                quantile_ms(t, 0.9),
                median / base
            ));
        }
        sums.push(format!(
            "| {} | {} | {} |",
            w.id(),
            BASELINE,
            cell(&hand_sums)
        ));
        sums.push(format!("| {} | candle | {} |", w.id(), cell(&candle_sums)));
    }
    println!("| workload | variant | median ms | p10-p90 ms | vs hand-written |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for row in timing {
        println!("{row}");
    }
    println!("\nChecksums (loss, then the sum and the norm of each gradient):\n");
    println!("| workload | variant | loss | gradients |");
    println!("| --- | --- | ---: | --- |");
    for row in sums {
        println!("{row}");
    }
    Ok(())
}
