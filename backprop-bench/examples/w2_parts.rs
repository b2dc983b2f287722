//! Times W2's generated training forward and backward separately.
use backprop_bench::w2::*;
fn main() {
    let d = Data::<f32>::new(Sizes::FULL, 0);
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let (l, saved) = elementwise_chain_train(d.x.view());
        let t1 = t.elapsed();
        let g = elementwise_chain_backward(&saved, 1.0);
        let t2 = t.elapsed() - t1;
        let t = std::time::Instant::now();
        let h = hand(&d);
        let t3 = t.elapsed();
        println!(
            "train {t1:?} backward {t2:?} hand {t3:?} {l} {}",
            g.x[[0, 0]] + h.loss
        );
    }
}
