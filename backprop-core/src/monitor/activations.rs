//! What a monitor measures of one layer's activations: the fraction of saturated
//! sigmoid or tanh units, the ReLU units that never fire, and a histogram.

use std::borrow::Cow;

use ndarray::{ArrayViewD, Axis};

use crate::{Activation, Real};

/// The most values an activation histogram is drawn from (evenly spaced over the batch).
pub const HISTOGRAM_SAMPLE: usize = 4096;

/// Counts of values in equal bins between `lo` and `hi` (values outside go to
/// the first or last bin).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// The low end of the first bin.
    pub lo: f64,
    /// The high end of the last bin.
    pub hi: f64,
    /// The number of values in each bin.
    pub counts: Vec<u64>,
    /// The training step the values come from.
    pub step: u64,
}

impl Histogram {
    fn new(lo: f64, hi: f64, bins: usize, step: u64) -> Self {
        Histogram {
            lo,
            hi,
            counts: vec![0; bins.max(1)],
            step,
        }
    }

    fn add(&mut self, x: f64) {
        let bins = self.counts.len();
        let at = ((x - self.lo) / (self.hi - self.lo) * bins as f64).floor();
        // `as` saturates: below `lo` (and NaN) goes to bin 0.
        let bin = (at.max(0.0) as usize).min(bins - 1);
        self.counts[bin] += 1;
    }
}

/// What a monitor measured of one layer whose output is an [`Activation`].
///
/// A layer's output is `[batch, ...]`: axis 0 holds the examples, and a *unit* is
/// a position along the other axes (a feature of a `[batch, features]` output, a
/// neuron of a feature map).
#[derive(Clone, Debug)]
pub struct ActivationStats {
    /// The layer's name in its model.
    pub layer: String,
    /// The activation.
    pub kind: Activation,
    /// For sigmoid and tanh, per observed batch: (step, fraction of the batch's
    /// values whose [relative slope](Activation::relative_slope) is below the
    /// monitor's `saturation_slope`).
    pub saturated: Vec<(u64, f64)>,
    /// For ReLU, at the end of each window of observed batches: (step, fraction
    /// of the units that did not fire, output above 0, for any example of the window).
    pub dead_in_window: Vec<(u64, f64)>,
    /// For ReLU, at the end of each pass through the data
    /// ([`Monitor::end_epoch`](super::Monitor::end_epoch)): (step, fraction of
    /// the units that did not fire in the whole pass).
    pub dead_in_epoch: Vec<(u64, f64)>,
    /// For ReLU, at the end of each window after the first: (step, fraction of
    /// the units that fired in an earlier window and not in this one).
    pub died: Vec<(u64, f64)>,
    /// The histogram of the first observed batch's values (a sample of them).
    pub first_histogram: Option<Histogram>,
    /// The histogram of the last observed batch's values (a sample of them).
    pub histogram: Option<Histogram>,
    units: Units,
}

/// Which ReLU units fired, over the window, the pass, and the run.
#[derive(Clone, Debug, Default)]
struct Units {
    in_window: Vec<bool>,
    window_batches: usize,
    in_epoch: Vec<bool>,
    epoch_batches: usize,
    before_window: Vec<bool>,
    windows: usize,
}

/// `flags`, one per unit: started afresh (all `false`) when the number of units
/// changed (the first batch, or a layer reused at another width).
fn of_units(flags: &mut Vec<bool>, units: usize) -> &mut Vec<bool> {
    if flags.len() != units {
        *flags = vec![false; units];
    }
    flags
}

fn fraction_not(fired: &[bool]) -> f64 {
    fired.iter().filter(|f| !**f).count() as f64 / fired.len().max(1) as f64
}

impl ActivationStats {
    pub(super) fn new(layer: &str, kind: Activation) -> Self {
        ActivationStats {
            layer: layer.to_string(),
            kind,
            saturated: Vec::new(),
            dead_in_window: Vec::new(),
            dead_in_epoch: Vec::new(),
            died: Vec::new(),
            first_histogram: None,
            histogram: None,
            units: Units::default(),
        }
    }

    /// Takes the statistics of one batch `y` (`[batch, ...]`): one pass over
    /// its elements as a slice, and a histogram of at most
    /// [`HISTOGRAM_SAMPLE`] of them.
    pub(super) fn observe<T: Real>(
        &mut self,
        y: &ArrayViewD<'_, T>,
        step: u64,
        config: &super::MonitorConfig,
    ) {
        if y.ndim() == 0 || y.is_empty() {
            return;
        }
        let units = y.len() / y.len_of(Axis(0));
        // Dynamic-rank iteration is slow; a layer's output is almost always contiguous.
        let values: Cow<'_, [T]> = match y.as_slice() {
            Some(slice) => Cow::Borrowed(slice),
            None => Cow::Owned(y.iter().copied().collect()),
        };
        let sample: Vec<f64> = values
            .iter()
            .step_by(values.len().div_ceil(HISTOGRAM_SAMPLE).max(1))
            .map(|v| v.to_f64_lossy())
            .collect();
        let (lo, hi) = match self.kind {
            Activation::Sigmoid => (0.0, 1.0),
            Activation::Tanh => (-1.0, 1.0),
            Activation::Relu => {
                let max = sample.iter().fold(0.0f64, |m, &v| m.max(v));
                (0.0, if max > 0.0 { max } else { 1.0 })
            }
        };
        let mut histogram = Histogram::new(lo, hi, config.histogram_bins, step);
        sample.iter().for_each(|&v| histogram.add(v));
        match self.kind {
            Activation::Relu => {
                let fired = of_units(&mut self.units.in_window, units);
                let zero = T::zero();
                for example in values.chunks_exact(units) {
                    for (f, &v) in fired.iter_mut().zip(example) {
                        *f |= v > zero;
                    }
                }
                self.units.window_batches += 1;
                let epoch = of_units(&mut self.units.in_epoch, units);
                for (e, f) in epoch.iter_mut().zip(&self.units.in_window) {
                    *e |= *f;
                }
                self.units.epoch_batches += 1;
                if self.units.window_batches >= config.window {
                    self.close_window(step);
                }
            }
            kind => {
                // Saturated outside `[lo, hi]`, where the relative slope is below the threshold.
                let (lo, hi) = kind.unsaturated_range(config.saturation_slope);
                let (lo, hi) = (T::lit(lo), T::lit(hi));
                let saturated = values.iter().filter(|&&v| v < lo || v > hi).count();
                self.saturated
                    .push((step, saturated as f64 / values.len() as f64));
            }
        }
        if self.first_histogram.is_none() {
            self.first_histogram = Some(histogram.clone());
        }
        self.histogram = Some(histogram);
    }

    fn close_window(&mut self, step: u64) {
        let u = &mut self.units;
        self.dead_in_window.push((step, fraction_not(&u.in_window)));
        if u.windows > 0 {
            let died = u
                .before_window
                .iter()
                .zip(&u.in_window)
                .filter(|(before, now)| **before && !**now)
                .count();
            self.died
                .push((step, died as f64 / u.in_window.len().max(1) as f64));
        }
        for (b, f) in of_units(&mut u.before_window, u.in_window.len())
            .iter_mut()
            .zip(&u.in_window)
        {
            *b |= *f;
        }
        u.in_window.iter_mut().for_each(|f| *f = false);
        u.window_batches = 0;
        u.windows += 1;
    }

    /// Ends a pass through the data: records the units dead over the pass.
    pub(super) fn end_epoch(&mut self, step: u64) {
        if self.units.epoch_batches > 0 {
            self.dead_in_epoch
                .push((step, fraction_not(&self.units.in_epoch)));
        }
        self.units.in_epoch.iter_mut().for_each(|f| *f = false);
        self.units.epoch_batches = 0;
    }

    /// The fraction of ReLU units dead by the latest complete measure: the last
    /// pass, else the last window, else the batches seen so far if there are at
    /// least `min_batches`. With the step it was measured at.
    pub fn dead_fraction(&self, min_batches: usize) -> Option<(u64, f64)> {
        if self.kind != Activation::Relu {
            return None;
        }
        let latest = match (self.dead_in_epoch.last(), self.dead_in_window.last()) {
            (Some(&e), Some(&w)) => Some(if e.0 >= w.0 { e } else { w }),
            (e, w) => e.or(w).copied(),
        };
        latest.or_else(|| {
            let step = self.histogram.as_ref().map_or(0, |h| h.step);
            (self.units.window_batches >= min_batches)
                .then(|| (step, fraction_not(&self.units.in_window)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Monitor, MonitorConfig};
    use crate::Activation;
    use ndarray::array;

    fn monitor(window: usize) -> Monitor {
        Monitor::new(MonitorConfig {
            window,
            ..MonitorConfig::default()
        })
    }

    #[test]
    fn a_unit_is_dead_only_if_no_example_of_the_window_fired_it() {
        let mut m = monitor(2);
        // Unit 0 fires for one example of the first batch, unit 1 never, unit 2 in the second batch.
        for y in [
            array![[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]],
            array![[0.0, -0.0, 1.0], [0.0, 0.0, 0.0]],
        ] {
            m.next_step();
            m.observe_activation("relu", Activation::Relu, &y);
        }
        let a = &m.activations[0];
        assert_eq!(a.dead_in_window, [(2, 1.0 / 3.0)]);
        assert!(
            a.died.is_empty(),
            "nothing can have died in the first window"
        );
        // The second window: unit 0 and 2 stop firing, so they died.
        for _ in 0..2 {
            m.next_step();
            m.observe_activation("relu", Activation::Relu, &array![[0.0, 0.0, 0.0]]);
        }
        let a = &m.activations[0];
        assert_eq!(a.dead_in_window[1], (4, 1.0));
        assert_eq!(a.died, [(4, 2.0 / 3.0)]);
        m.end_epoch();
        assert_eq!(m.activations[0].dead_in_epoch, [(4, 1.0 / 3.0)]);
        assert_eq!(m.activations[0].dead_fraction(5), Some((4, 1.0 / 3.0)));
    }

    #[test]
    fn saturation_counts_outputs_whose_slope_is_below_the_threshold() {
        let mut m = monitor(20);
        m.next_step();
        // 4 z (1 - z) < 0.05 for z = 0.001 and 0.999 only.
        m.observe_activation(
            "s",
            Activation::Sigmoid,
            &array![[0.001, 0.5], [0.999, 0.3]],
        );
        let a = &m.activations[0];
        assert_eq!(a.saturated, [(1, 0.5)]);
        let h = a.histogram.as_ref().unwrap();
        assert_eq!((h.lo, h.hi, h.counts.iter().sum::<u64>()), (0.0, 1.0, 4));
        // Exactly as `relative_slope` says, at the edges of the range too.
        let (lo, hi) = Activation::Tanh.unsaturated_range(0.05);
        for z in [lo - 1e-9, lo + 1e-9, hi - 1e-9, hi + 1e-9, -1.0, 0.0] {
            let inside = (lo..=hi).contains(&z);
            assert_eq!(Activation::Tanh.relative_slope(z) >= 0.05, inside, "{z}");
        }
        assert_eq!((h.counts[0], h.counts[10], h.counts[19]), (1, 1, 1));
    }

    #[test]
    fn measurements_follow_the_sampling_period() {
        let mut m = Monitor::new(MonitorConfig {
            activation_every: 3,
            ..MonitorConfig::default()
        });
        for _ in 0..7 {
            m.next_step();
            m.observe_activation("t", Activation::Tanh, &array![[0.0]]);
        }
        let steps: Vec<u64> = m.activations[0].saturated.iter().map(|s| s.0).collect();
        assert_eq!(steps, [3, 6]);
    }

    #[test]
    fn a_sample_is_zeroed_when_all_its_gradient_is_exactly_zero() {
        let mut m = monitor(20);
        m.next_step();
        m.observe_zeroed_by_clip("loss", &array![[0.0, 0.0], [0.0, 1e-30], [-0.0, 0.0]]);
        assert_eq!(m.clips[0].zeroed, [(1, 2.0 / 3.0)]);
    }
}
