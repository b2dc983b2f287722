//! Profiling aid: runs one variant of one workload in a loop and prints the
//! median step, for `perf record -e cpu-clock`:
//!
//! ```sh
//! cargo build --release -p backprop-bench --example profile
//! perf record -e cpu-clock ./target/release/examples/profile W4 generated 1000
//! ```
use backprop_bench::{Variant, w1, w2, w3, w4, w5};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile W1..W5 VARIANT [STEPS] (VARIANT: hand-written, generated, layers)";
    let (workload, name) = match (args.first(), args.get(1)) {
        (Some(w), Some(v)) => (w.as_str(), v.as_str()),
        _ => panic!("{usage}"),
    };
    let steps: usize = args
        .get(2)
        .map_or(500, |s| s.parse().expect("STEPS is a number"));
    let variants: Vec<Variant> = match workload {
        "W1" => w1::variants(0),
        "W2" => w2::variants(0),
        "W3" => w3::variants(0),
        "W4" => w4::variants(0),
        "W5" => w5::variants(0),
        _ => panic!("{usage}"),
    };
    let mut variant = variants
        .into_iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("{workload} has no variant {name}"));
    let mut times: Vec<f64> = (0..steps.max(1))
        .map(|_| {
            let start = std::time::Instant::now();
            std::hint::black_box(variant.step());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{workload} {name}: median {:.3} ms over {} steps",
        times[times.len() / 2],
        times.len()
    );
}
