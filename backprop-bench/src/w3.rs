//! W3: a vanilla RNN, batch 32, input 64, hidden 256, T = 50:
//! `h_t = tanh(x_t wx + h_{t-1} wh + b)` from one initial state per sample `h0[32, 256]`,
//! loss = the sum of every `h_t` (t = 1..T). Gradients: `wx`, `wh`, `b`, `h0`.
//!
//! The language has no loops, so the generated variant is what a user writes: one
//! `#[differentiable]` step, [`rnn_step`], run forward with `rnn_step_train` for each
//! time step, then backward through time with `rnn_step_backward` in reverse,
//! accumulating the weight gradients.

use backprop::monitor::{GradientThroughTime, Monitor, POWER_ITERATIONS, largest_singular_value};
use backprop::prelude::*;
use backprop::{Real, SeededRng};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, Array3, Axis, Slice, Zip};

use crate::{StepResult, Variant, normal};

/// The sizes of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Sequences per batch.
    pub batch: usize,
    /// Features of each input `x_t`.
    pub inputs: usize,
    /// Units of the state.
    pub hidden: usize,
    /// Time steps.
    pub steps: usize,
}

impl Sizes {
    /// The workload as specified: batch 32, input 64, hidden 256, T = 50.
    pub const FULL: Sizes = Sizes {
        batch: 32,
        inputs: 64,
        hidden: 256,
        steps: 50,
    };
    /// A small instance for tests.
    pub const SMALL: Sizes = Sizes {
        batch: 3,
        inputs: 5,
        hidden: 7,
        steps: 4,
    };

    /// The floating-point operations of the matrix products a step needs: per time
    /// step the two forward products, `dwx`, `dwh` and the state gradient.
    pub fn flops(self) -> f64 {
        let Sizes {
            batch: n,
            inputs: i,
            hidden: h,
            steps: t,
        } = self;
        (t * (2 * n * i * h * 2 + 2 * n * h * h * 3)) as f64
    }
}

/// The inputs of one step.
#[derive(Clone, Debug)]
pub struct Data<T> {
    /// `[steps, batch, inputs]`, standard normal.
    pub xs: Array3<T>,
    /// `[batch, hidden]`, normal with standard deviation 0.5.
    pub h0: Array2<T>,
    /// `[inputs, hidden]`, normal with variance `1 / inputs`.
    pub wx: Array2<T>,
    /// `[hidden, hidden]`, normal with variance `1 / hidden`.
    pub wh: Array2<T>,
    /// `[hidden]`, normal with standard deviation 0.1.
    pub b: Array1<T>,
}

impl<T: Real> Data<T> {
    /// Data of the given sizes drawn from `seed`.
    pub fn new(s: Sizes, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        Data {
            xs: normal((s.steps, s.batch, s.inputs), 1.0, &mut rng),
            h0: normal((s.batch, s.hidden), 0.5, &mut rng),
            wx: normal(
                (s.inputs, s.hidden),
                (1.0 / s.inputs as f64).sqrt(),
                &mut rng,
            ),
            wh: normal(
                (s.hidden, s.hidden),
                (1.0 / s.hidden as f64).sqrt(),
                &mut rng,
            ),
            b: normal(s.hidden, 0.1, &mut rng),
        }
    }
}

/// One time step as a user writes it; the input takes no gradient.
#[differentiable]
pub fn rnn_step<T: Real>(
    #[no_grad] x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    tanh(x.dot(&wx) + h_prev.dot(&wh) + &b)
}

/// One step (all T time steps, forward and backward) through the generated
/// [`rnn_step_train`] and [`rnn_step_backward`], as a user writes backpropagation
/// through time.
pub fn generated<T: Real>(d: &Data<T>) -> StepResult<T> {
    generated_recording(d, None)
}

/// [`generated`], feeding `monitor` the gradient's norm at each time step.
pub fn generated_monitored(d: &Data<f32>, monitor: &mut Monitor) -> StepResult<f32> {
    let mut record = GradientThroughTime::new();
    let result = generated_recording(d, Some(&mut record));
    if monitor.measures_params() {
        record.largest_singular_value = Some(largest_singular_value(&d.wh, POWER_ITERATIONS));
    }
    monitor.observe_through_time("rnn", record);
    result
}

/// [`generated`], recording the gradient of each state in `record` if given.
fn generated_recording<T: Real>(
    d: &Data<T>,
    mut record: Option<&mut GradientThroughTime>,
) -> StepResult<T> {
    let steps = d.xs.len_of(Axis(0));
    let mut saved = Vec::with_capacity(steps);
    let mut h = d.h0.clone();
    let mut loss = 0.0;
    for t in 0..steps {
        let (h_next, s) = rnn_step_train(
            d.xs.index_axis(Axis(0), t),
            h.view(),
            d.wx.view(),
            d.wh.view(),
            d.b.view(),
        );
        loss += crate::sum_f64(&h_next);
        saved.push(s);
        h = h_next;
    }
    // d loss / d h_T: every state enters the loss with weight one.
    let mut d_h = Array2::<T>::ones(h.raw_dim());
    let mut d_wx = Array2::<T>::zeros(d.wx.raw_dim());
    let mut d_wh = Array2::<T>::zeros(d.wh.raw_dim());
    let mut d_b = Array1::<T>::zeros(d.b.raw_dim());
    for (t, s) in saved.iter().enumerate().rev() {
        if let Some(record) = record.as_deref_mut() {
            record.push_step(&d_h);
        }
        let g = rnn_step_backward(s, d_h.view());
        d_wx += &g.wx;
        d_wh += &g.wh;
        d_b += &g.b;
        d_h = g.h_prev;
        if t > 0 {
            // h_{t-1} is also a term of the loss.
            d_h += T::one();
        }
    }
    StepResult {
        loss: T::lit(loss),
        grads: vec![
            ("wx", d_wx.into_dyn()),
            ("wh", d_wh.into_dyn()),
            ("b", d_b.into_dyn()),
            ("h0", d_h.into_dyn()),
        ],
    }
}

/// One step written by hand: the input products of all time steps in one matrix
/// product, one product per time step forward (into a preallocated stack of
/// states) and one backward, and the weight gradients as one product each over
/// the stacked time steps at the end.
pub fn hand<T: Real>(d: &Data<T>) -> StepResult<T> {
    let (steps, batch, inputs) = d.xs.dim();
    let hidden = d.wh.nrows();
    let xs =
        d.xs.view()
            .into_shape_with_order((steps * batch, inputs))
            .expect("xs is contiguous");

    // Forward. `acts` holds x_t wx for every t, and later the pre-activation gradients.
    let mut acts = xs
        .dot(&d.wx)
        .into_shape_with_order((steps, batch, hidden))
        .expect("fresh array");
    let mut hs = Array3::<T>::zeros((steps + 1, batch, hidden));
    hs.index_axis_mut(Axis(0), 0).assign(&d.h0);
    for t in 0..steps {
        let (prev, mut next) = hs.view_mut().split_at(Axis(0), t + 1);
        let h_prev = prev.index_axis(Axis(0), t);
        let mut h = next.index_axis_mut(Axis(0), 0);
        general_mat_mul(T::one(), &h_prev, &d.wh, T::zero(), &mut h);
        Zip::from(&mut h)
            .and(&acts.index_axis(Axis(0), t))
            .and_broadcast(&d.b)
            .for_each(|h, &xw, &b| *h = (*h + xw + b).tanh());
    }
    let loss = crate::sum_f64(&hs.slice_axis(Axis(0), Slice::from(1..)));

    // Backward through time; the gradient of the loss reaches every state directly too.
    let mut d_h = Array2::<T>::ones((batch, hidden));
    for t in (0..steps).rev() {
        let mut da = acts.index_axis_mut(Axis(0), t);
        Zip::from(&mut da)
            .and(&d_h)
            .and(&hs.index_axis(Axis(0), t + 1))
            .for_each(|da, &g, &h| *da = g * (T::one() - h * h));
        let beta = if t > 0 {
            d_h.fill(T::one());
            T::one()
        } else {
            T::zero()
        };
        general_mat_mul(T::one(), &da, &d.wh.t(), beta, &mut d_h);
    }
    let das = acts
        .into_shape_with_order((steps * batch, hidden))
        .expect("contiguous");
    let h_prevs = hs
        .slice_axis(Axis(0), Slice::from(..steps))
        .into_shape_with_order((steps * batch, hidden))
        .expect("a contiguous prefix");
    let d_wx = xs.t().dot(&das);
    let d_wh = h_prevs.t().dot(&das);
    let d_b = das.sum_axis(Axis(0));
    StepResult {
        loss: T::lit(loss),
        grads: vec![
            ("wx", d_wx.into_dyn()),
            ("wh", d_wh.into_dyn()),
            ("b", d_b.into_dyn()),
            ("h0", d_h.into_dyn()),
        ],
    }
}

/// The variants at full size in `f32`.
pub fn variants(seed: u64) -> Vec<Variant> {
    crate::hand_and_generated(Data::<f32>::new(Sizes::FULL, seed), hand, generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_and_hand_written_agree() {
        crate::assert_agree(|seed| Data::<f64>::new(Sizes::SMALL, seed), generated, hand);
    }
}
