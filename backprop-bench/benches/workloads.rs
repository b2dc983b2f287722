//! The five workloads under divan, f32 at full size, one thread: each workload's
//! hand-written baseline beside the generated code (and, for W1, the layers), and
//! the generated code feeding a runtime monitor (`monitored`: the monitors' cost).
//!
//! ```sh
//! cargo bench -p backprop-bench --bench workloads
//! ```
//!
//! For the side-by-side report with ratios, lower bounds, peak heap and checksums,
//! run the `compare` binary instead.
#![forbid(unsafe_code)]

use backprop_bench::SEED;
use divan::Bencher;

fn main() {
    divan::main();
}

/// Defines the benches of one workload module: `hand_written` and `generated`.
macro_rules! workload_benches {
    ($module:ident) => {
        #[divan::bench_group(sample_count = 20, sample_size = 1, threads = [1])]
        mod $module {
            use super::*;
            use backprop_bench::$module as w;

            #[divan::bench]
            fn hand_written(b: Bencher) {
                let d = w::Data::<f32>::new(w::Sizes::FULL, SEED);
                b.bench_local(|| w::hand(&d));
            }

            #[divan::bench]
            fn generated(b: Bencher) {
                let d = w::Data::<f32>::new(w::Sizes::FULL, SEED);
                b.bench_local(|| w::generated(&d));
            }

            #[divan::bench]
            fn monitored(b: Bencher) {
                let workload = backprop_bench::Workload::ALL
                    .into_iter()
                    .find(|w| w.id().eq_ignore_ascii_case(stringify!($module)))
                    .expect("a workload of this name");
                let mut variant = workload.monitored(SEED).remove(0);
                b.bench_local(|| variant.step());
            }
        }
    };
}

workload_benches!(w1);
workload_benches!(w2);
workload_benches!(w3);
workload_benches!(w4);
workload_benches!(w5);

/// W1 through `Sequential` and the runtime's loss.
#[divan::bench(sample_count = 20, sample_size = 1, threads = [1])]
fn w1_layers(b: Bencher) {
    use backprop_bench::w1 as w;
    let d = w::Data::<f32>::new(w::Sizes::FULL, SEED);
    let mut layers = w::Layers::new(&d);
    b.bench_local(|| layers.step());
}
