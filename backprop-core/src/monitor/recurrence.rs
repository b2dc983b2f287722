//! The gradient through time of a recurrence: its norm at each step of
//! backpropagation through time, and the largest singular value of the
//! recurrence matrix that multiplies it at every step.

use std::cell::RefCell;

use ndarray::{Array1, ArrayRef2};

use crate::Real;

/// What one backward pass through time measured.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientThroughTime {
    /// The L2 norm of the gradient of the hidden state at each time step (index
    /// `t` is step `t`), over the whole batch.
    pub step_norms: Vec<f64>,
    /// The largest singular value of the recurrence matrix, by power iteration:
    /// above 1 the gradient can grow at each step, below 1 it shrinks.
    pub largest_singular_value: Option<f64>,
}

impl GradientThroughTime {
    /// An empty record, to fill with [`GradientThroughTime::push_step`] while
    /// walking the steps of a hand-written backpropagation through time.
    pub fn new() -> Self {
        GradientThroughTime {
            step_norms: Vec::new(),
            largest_singular_value: None,
        }
    }

    /// Records the gradient of the hidden state at the step being walked. Steps
    /// are walked from the last to the first; the record keeps them in time order.
    pub fn push_step<T: Real, D: ndarray::Dimension>(&mut self, d_h: &ndarray::ArrayRef<T, D>) {
        self.push_step_norm(squared_norm(d_h).sqrt());
    }

    /// [`GradientThroughTime::push_step`] for a norm already computed (of a state
    /// of several arrays: an LSTM's `(h, c)`).
    pub fn push_step_norm(&mut self, norm: f64) {
        self.step_norms.insert(0, norm);
    }

    /// How much larger the gradient is at the first step than at the last: above
    /// 1 it exploded on the way back, below 1 it vanished. `None` with fewer than
    /// two steps or a zero gradient at the last step.
    pub fn ratio(&self) -> Option<f64> {
        let (&first, &last) = (self.step_norms.first()?, self.step_norms.last()?);
        (self.step_norms.len() >= 2 && last > 0.0 && last.is_finite()).then(|| first / last)
    }

    /// The factor by which the gradient grew per step on the way back (the
    /// geometric mean of the ratio): 1 is stable.
    pub fn growth_per_step(&self) -> Option<f64> {
        let steps = self.step_norms.len().checked_sub(1)?;
        Some(self.ratio()?.powf(1.0 / steps as f64))
    }
}

impl Default for GradientThroughTime {
    fn default() -> Self {
        Self::new()
    }
}

/// The sum of the squares of `a`'s elements, in f64.
pub(crate) fn squared_norm<T: Real, D: ndarray::Dimension>(a: &ndarray::ArrayRef<T, D>) -> f64 {
    let square = |v: &T| {
        let v = v.to_f64_lossy();
        v * v
    };
    match a.as_slice_memory_order() {
        // Eight sums side by side vectorize; one would wait on each addition.
        Some(slice) => {
            let mut lanes = [0.0f64; 8];
            let chunks = slice.chunks_exact(8);
            let rest: f64 = chunks.remainder().iter().map(square).sum();
            for chunk in chunks {
                for (lane, v) in lanes.iter_mut().zip(chunk) {
                    *lane += square(v);
                }
            }
            lanes.iter().sum::<f64>() + rest
        }
        None => a.iter().map(square).sum(),
    }
}

/// The largest singular value of `w`, by power iteration on `w^T w` from a fixed
/// start (deterministic), in f64. Cheap: two matrix-vector products per
/// iteration.
pub fn largest_singular_value<T: Real>(w: &ArrayRef2<T>, iterations: usize) -> f64 {
    let w = w.mapv(|v| v.to_f64_lossy());
    let n = w.ncols();
    if n == 0 || w.nrows() == 0 {
        return 0.0;
    }
    // A start with a part along every direction (not all equal, which could be
    // orthogonal to the top singular vector of a structured matrix).
    let mut v = Array1::from_shape_fn(n, |i| 1.0 + (i as f64 * 0.618_033_988_749).fract());
    let mut sigma = 0.0;
    for _ in 0..iterations.max(1) {
        let norm = v.dot(&v).sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return sigma;
        }
        v /= norm;
        let wv = w.dot(&v);
        sigma = wv.dot(&wv).sqrt();
        v = w.t().dot(&wv);
    }
    sigma
}

/// A caller of [`record_through_time`] and what it has received.
struct Listener {
    records: Vec<GradientThroughTime>,
    singular_value: bool,
}

thread_local! {
    /// The listener of this thread, while one listens.
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
}

/// What the backward passes through time on this thread should measure: `None`
/// when nobody listens (the built-in recurrent layers then measure nothing),
/// else whether to estimate the largest singular value as well.
pub(crate) fn recording() -> Option<bool> {
    LISTENER.with(|l| l.borrow().as_ref().map(|l| l.singular_value))
}

/// Hands a record to the listening [`record_through_time`], if any.
pub(crate) fn deliver(record: GradientThroughTime) {
    LISTENER.with(|l| {
        if let Some(listener) = l.borrow_mut().as_mut() {
            listener.records.push(record);
        }
    });
}

/// Runs `f` and returns, with its result, what the recurrent layers' backward
/// passes through time ([`Rnn`](crate::layers::Rnn), [`Lstm`](crate::layers::Lstm))
/// measured during it, in the order they ran: the gradient's norm at every step
/// and, if `singular_value`, the largest singular value of the recurrence
/// matrix (a power iteration over it, the costlier part). Outside this the
/// layers measure nothing. A [`Monitor`](super::Monitor) attached to a model does
/// this around each layer's backward.
pub fn record_through_time<R>(
    singular_value: bool,
    f: impl FnOnce() -> R,
) -> (R, Vec<GradientThroughTime>) {
    let listener = Listener {
        records: Vec::new(),
        singular_value,
    };
    let outer = LISTENER.with(|l| l.borrow_mut().replace(listener));
    let result = f();
    let listener = LISTENER.with(|l| std::mem::replace(&mut *l.borrow_mut(), outer));
    (result, listener.map(|l| l.records).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn power_iteration_finds_the_largest_singular_value() {
        let w = array![[3.0, 0.0], [0.0, -5.0]];
        assert!((largest_singular_value(&w, 50) - 5.0).abs() < 1e-9);
        // A rotation scaled by 0.9: every singular value is 0.9.
        let (c, s) = (0.6, 0.8);
        let r = array![[0.9 * c, -0.9 * s], [0.9 * s, 0.9 * c]];
        assert!((largest_singular_value(&r, 50) - 0.9).abs() < 1e-9);
        // Non-square (an LSTM's [hidden, 4 hidden] recurrence): [[1, 1]] has 2^0.5.
        let wide = array![[1.0f32, 1.0]];
        assert!((largest_singular_value(&wide, 50) - 2f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn the_ratio_compares_the_first_step_with_the_last() {
        let mut g = GradientThroughTime::new();
        // Walked backwards: the last step first.
        for norm in [1.0, 2.0, 4.0, 8.0] {
            g.push_step(&array![norm]);
        }
        assert_eq!(g.step_norms, [8.0, 4.0, 2.0, 1.0]);
        assert_eq!(g.ratio(), Some(8.0));
        assert!((g.growth_per_step().unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(GradientThroughTime::new().ratio(), None);
    }

    #[test]
    fn records_reach_only_the_listener_around_them() {
        deliver(GradientThroughTime::new());
        let ((), outer) = record_through_time(true, || {
            deliver(GradientThroughTime::new());
            let ((), inner) = record_through_time(false, || {
                assert_eq!(recording(), Some(false));
                deliver(GradientThroughTime::new())
            });
            assert_eq!(inner.len(), 1);
            assert_eq!(recording(), Some(true));
        });
        assert_eq!(outer.len(), 1);
        assert_eq!(recording(), None);
    }
}
