//! Profiling aid: runs W3's generated step (or, with `hand`, the hand-written
//! one) 200 times and prints the median, for `perf record`.
use backprop_bench::w3::*;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let d = Data::<f32>::new(Sizes::FULL, 0);
    let mut times = Vec::new();
    for _ in 0..200 {
        let start = std::time::Instant::now();
        let r = if which == "hand" {
            hand(&d)
        } else {
            generated(&d)
        };
        std::hint::black_box(r);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("{which} median {:.3} ms", times[times.len() / 2]);
}
