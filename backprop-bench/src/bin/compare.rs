//! Runs each workload's variants side by side and prints a markdown report: time
//! per step (median and p10-p90), the ratio to the hand-written baseline, a lower
//! bound from the machine's measured memory bandwidth or matmul rate and the ratio
//! to it, the peak heap of one step, and the checksums of the loss and every gradient.
//!
//! ```sh
//! cargo run --release -p backprop-bench --bin compare
//! cargo run --release -p backprop-bench --bin compare -- --workload W2 --steps 100
//! ```
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use backprop_bench::{BASELINE, Checksums, MONITORED, SEED, Variant, Work, Workload, checksum};
use clap::Parser;
use ndarray::{Array1, Array2, Zip};
use peak_alloc::PeakAlloc;

/// Counts the heap in use and its peak, for the peak-heap column.
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// Compare the generated backward passes with hand-written ndarray ones, side by side.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Timed steps per variant (fewer if `--max-seconds` runs out first).
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Untimed steps per variant before timing.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// The workloads to run (`W1`..`W5`, repeatable or comma-separated); all by default.
    #[arg(long, value_delimiter = ',')]
    workload: Vec<String>,
    /// Stop timing a workload after this many seconds of steps.
    #[arg(long, default_value_t = 8.0)]
    max_seconds: f64,
    /// The seed of the workloads' data.
    #[arg(long, default_value_t = SEED)]
    seed: u64,
    /// Also run the generated variants on this many threads (rayon), beside
    /// themselves on one; 1 runs everything on one thread only.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also run the generated variants (and W1's layers) feeding a runtime
    /// monitor, to measure what the monitors cost when on.
    #[arg(long)]
    monitor: bool,
}

/// What was measured of one variant.
struct Measured {
    name: &'static str,
    /// Seconds per step, sorted.
    times: Vec<f64>,
    /// Bytes of heap above what was in use before one step, at the step's peak.
    peak_heap: usize,
    checksums: Checksums,
}

impl Measured {
    /// The `q`-quantile of the step times (nearest rank), in seconds.
    fn quantile(&self, q: f64) -> f64 {
        let i = ((self.times.len() - 1) as f64 * q).round() as usize;
        self.times[i]
    }
}

fn main() {
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
    if args.steps == 0 || args.threads == 0 {
        eprintln!("--steps and --threads must be at least 1");
        std::process::exit(2);
    }

    let bandwidth = measure_bandwidth();
    let gemm = measure_gemm();
    println!("## backprop-bench compare\n");
    println!("- date (UTC): {}", utc_date());
    println!("- CPU: {}", cpu_model());
    println!("- features: {}", cpu_features());
    println!(
        "- memory bandwidth (single thread, f32 triad `a = b + s c` on 3 x 128 MiB): {:.1} GB/s",
        bandwidth / 1e9
    );
    println!(
        "- matmul rate (single thread, ndarray `.dot`, f32 1024 x 1024 x 1024): {:.1} GFLOP/s",
        gemm / 1e9
    );
    println!(
        "- {} timed steps per variant after {} warm-up (fewer if a workload passes {} s), variants interleaved; f32, one thread{}",
        args.steps,
        args.warmup,
        args.max_seconds,
        if args.threads > 1 {
            format!(
                " (the `{} threads` variants: fused loops on {} threads)",
                args.threads, args.threads
            )
        } else {
            String::new()
        }
    );
    println!(
        "- peak heap: the most heap in use during one step above what was in use before it (inputs excluded, outputs included), plus the buffers generated code keeps between steps for the copies its `Saved` holds (`ops::spare_buffer_bytes`)\n"
    );

    let mut all = Vec::new();
    for w in workloads {
        let measured = run(w, &args);
        all.push((w, measured));
    }

    println!(
        "| workload | variant | median ms | p10-p90 ms | vs hand-written | lower bound ms | vs bound | peak heap MiB |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (w, measured) in &all {
        let bound = match w.work() {
            Work::Flops(f) => f / gemm,
            Work::Bytes(b) => b / bandwidth,
        };
        let base = measured
            .iter()
            .find(|m| m.name == BASELINE)
            .map(|m| m.quantile(0.5));
        for m in measured {
            let median = m.quantile(0.5);
            let ratio = base.map_or("-".to_string(), |b| format!("{:.2}x", median / b));
            println!(
                "| {} | {} | {:.3} | {:.3}-{:.3} | {} | {:.3} | {:.1}x | {:.1} |",
                w.id(),
                m.name,
                median * 1e3,
                m.quantile(0.1) * 1e3,
                m.quantile(0.9) * 1e3,
                ratio,
                bound * 1e3,
                median / bound,
                m.peak_heap as f64 / (1024.0 * 1024.0),
            );
        }
    }
    if args.monitor {
        println!(
            "\nMonitors on (the monitored variant over its unmonitored twin, same run; \
             the 10th percentile too, which a step with two speeds, such as W4's, \
             moves less than the median):\n"
        );
        for (w, measured) in &all {
            let find = |name: &str| measured.iter().find(|m| m.name == name);
            for (twin, monitored) in [("generated", MONITORED), ("layers", "layers, monitored")] {
                if let (Some(off), Some(on)) = (find(twin), find(monitored)) {
                    let change = |q: f64| 100.0 * (on.quantile(q) / off.quantile(q) - 1.0);
                    println!(
                        "- {} {twin}: median {:+.1}%, p10 {:+.1}%",
                        w.id(),
                        change(0.5),
                        change(0.1)
                    );
                }
            }
        }
    }
    println!();
    println!("Lower bounds:\n");
    for (w, _) in &all {
        let what = match w.work() {
            Work::Flops(f) => format!("{:.1} MFLOP / matmul rate", f / 1e6),
            Work::Bytes(b) => format!("{:.1} MiB / bandwidth", b / (1024.0 * 1024.0)),
        };
        println!(
            "- {} ({}): {} ({})",
            w.id(),
            w.description(),
            what,
            w.work_note()
        );
    }
    println!();
    println!("Checksums (loss, then the sum and the norm of each gradient):\n");
    println!("| workload | variant | loss | gradients |");
    println!("| --- | --- | ---: | --- |");
    for (w, measured) in &all {
        for m in measured {
            let grads: Vec<String> = m
                .checksums
                .grads
                .iter()
                .map(|g| format!("{} {:.6e} (norm {:.6e})", g.name, g.sum, g.norm))
                .collect();
            println!(
                "| {} | {} | {:.7e} | {} |",
                w.id(),
                m.name,
                m.checksums.loss,
                grads.join(", ")
            );
        }
    }
}

/// Warms up, measures the peak heap of one step, then times the variants interleaved.
/// `v` with the fused loops on `threads` threads, under `name`.
fn on_threads(mut v: Variant, name: &'static str, threads: usize) -> Variant {
    Variant::new(name, move || {
        backprop::ops::set_loop_threads(threads);
        v.step()
    })
}

/// The workload's variants on one thread, and with `--threads N` the
/// generated ones again on N (rayon's pool has one thread per core; set
/// `RAYON_NUM_THREADS` for more).
fn variants(w: Workload, args: &Args) -> Vec<Variant> {
    let mut variants: Vec<Variant> = w
        .variants(args.seed)
        .into_iter()
        .map(|v| {
            let name = v.name;
            on_threads(v, name, 1)
        })
        .collect();
    if args.monitor {
        variants.extend(w.monitored(args.seed).into_iter().map(|v| {
            let name = v.name;
            on_threads(v, name, 1)
        }));
    }
    if args.threads > 1 {
        for v in w.variants(args.seed) {
            if v.name != BASELINE {
                // Leaked once per variant: the names live as long as the program.
                let name: &'static str =
                    Box::leak(format!("{}, {} threads", v.name, args.threads).into_boxed_str());
                variants.push(on_threads(v, name, args.threads));
            }
        }
    }
    variants
}

fn run(w: Workload, args: &Args) -> Vec<Measured> {
    let mut variants: Vec<Variant> = variants(w, args);
    let mut measured: Vec<Measured> = variants
        .iter_mut()
        .map(|v| {
            // What another variant's steps kept is not this one's.
            backprop::ops::release_spare_buffers();
            for _ in 0..args.warmup {
                black_box(v.step());
            }
            let before = HEAP.current_usage();
            HEAP.reset_peak_usage();
            let result = v.step();
            // The buffers generated code keeps between steps for its saved
            // copies were allocated before the step but are its memory.
            let kept = backprop::ops::spare_buffer_bytes();
            let peak_heap = HEAP.peak_usage().saturating_sub(before) + kept;
            Measured {
                name: v.name,
                times: Vec::with_capacity(args.steps),
                peak_heap,
                checksums: checksum(&result),
            }
        })
        .collect();
    let budget = Duration::from_secs_f64(args.max_seconds);
    let start = Instant::now();
    let k = variants.len();
    for i in 0..args.steps {
        // Rotate the order so that no variant always follows the same one.
        for j in 0..k {
            let v = (i + j) % k;
            let t = Instant::now();
            drop(black_box(variants[v].step()));
            measured[v].times.push(t.elapsed().as_secs_f64());
        }
        if start.elapsed() > budget {
            break;
        }
    }
    for m in &mut measured {
        m.times.sort_by(f64::total_cmp);
    }
    measured
}

/// Single-thread memory bandwidth in bytes per second: the best of several
/// `a = b + s c` passes over arrays far larger than any cache, counting the
/// three arrays once each.
fn measure_bandwidth() -> f64 {
    let n = 1 << 25; // 128 MiB of f32 per array
    let b = Array1::<f32>::from_elem(n, 1.0);
    let c = Array1::<f32>::from_elem(n, 2.0);
    let mut a = Array1::<f32>::zeros(n);
    let s = black_box(0.5f32);
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let t = Instant::now();
        Zip::from(&mut a)
            .and(&b)
            .and(&c)
            .for_each(|a, &b, &c| *a = b + s * c);
        black_box(&a);
        best = best.min(t.elapsed().as_secs_f64());
    }
    (3 * n * std::mem::size_of::<f32>()) as f64 / best
}

/// Single-thread matmul rate in floating-point operations per second: the best of
/// several ndarray `.dot` products of two 1024 x 1024 f32 matrices.
fn measure_gemm() -> f64 {
    let n = 1024;
    let a = Array2::<f32>::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 13) as f32 * 0.1);
    let b = Array2::<f32>::from_shape_fn((n, n), |(i, j)| ((i * 5 + j * 11) % 17) as f32 * 0.1);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        black_box(black_box(&a).dot(black_box(&b)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    (2 * n * n * n) as f64 / best
}

/// The CPU's model name, from `/proc/cpuinfo` where there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| format!("unknown ({})", std::env::consts::ARCH))
}

/// The SIMD features that matter for these kernels, as detected at run time.
fn cpu_features() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        format!(
            "avx2 {}, avx512f {}, fma {}",
            yes_no(std::arch::is_x86_feature_detected!("avx2")),
            yes_no(std::arch::is_x86_feature_detected!("avx512f")),
            yes_no(std::arch::is_x86_feature_detected!("fma")),
        )
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        format!("not detected on {}", std::env::consts::ARCH)
    }
}

/// Today's date in UTC, `YYYY-MM-DD` (days to civil date, after Howard Hinnant).
fn utc_date() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
