//! Recurrent layers over sequences laid out `[time, batch, features]`: the cells are
//! `#[differentiable]` functions of one step; the loop over time and its
//! backpropagation through time are ordinary Rust around them.

use std::marker::PhantomData;

use backprop_macros::differentiable;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, ArrayView3, Axis, Ix1, Ix2, Slice};

use crate::monitor::{self, GradientThroughTime};
use crate::{Layer, Param, ParamMut, Parameters, Real, SeededRng, init};

/// One step of a vanilla RNN: `h = tanh(x wx + h_prev wh + b)`, with `x` of shape
/// `[batch, inputs]`, `h_prev` and `h` of shape `[batch, hidden]`.
#[differentiable]
pub fn rnn_cell<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    tanh(x.dot(&wx) + h_prev.dot(&wh) + &b)
}

/// One step of an LSTM (Hochreiter and Schmidhuber, 1997), returning `(h, c)`.
///
/// `gates = x wx + h_prev wh + b` (`[batch, 4 hidden]`) is cut into four blocks of
/// `hidden` columns, in the order input, forget, output, candidate:
/// `i = sigmoid(..)`, `f = sigmoid(..)`, `o = sigmoid(..)`, `g = tanh(..)`; then
/// `c = f * c_prev + i * g` and `h = o * tanh(c)`.
#[differentiable]
pub fn lstm_cell<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    c_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> (Array2<T>, Array2<T>) {
    let gates = x.dot(&wx) + h_prev.dot(&wh) + &b;
    let n = h_prev.ncols();
    let i = sigmoid(gates.slice_axis(Axis(1), 0..n));
    let f = sigmoid(gates.slice_axis(Axis(1), n..2 * n));
    let o = sigmoid(gates.slice_axis(Axis(1), 2 * n..3 * n));
    let g = tanh(gates.slice_axis(Axis(1), 3 * n..4 * n));
    let c = f * &c_prev + i * &g;
    let h = o * tanh(&c);
    (h, c)
}

/// What the loop over time needs from a recurrent layer.
trait Recurrence<T: Real> {
    /// The state carried from step to step (`h`, or `(h, c)`); its gradient has the same type.
    type State;
    /// What the backward of one step needs.
    type StepSaved;

    /// The state before the first step, for a batch (the learned initial state on every row).
    fn initial_state(&self, batch: usize) -> Self::State;
    /// A zero state gradient for a batch.
    fn zero_state(&self, batch: usize) -> Self::State;
    /// The hidden state `h`, the step's output.
    fn hidden(state: &Self::State) -> &Array2<T>;
    /// The hidden state `h`, mutably.
    fn hidden_mut(state: &mut Self::State) -> &mut Array2<T>;
    /// One step forward: the next state and what its backward needs.
    fn step(&self, x: ArrayView2<T>, state: &Self::State) -> (Self::State, Self::StepSaved);
    /// One step back from the gradient of the state it produced: accumulates the weight
    /// gradients and returns the gradients of the step's input and of the previous state.
    fn step_backward(
        &mut self,
        saved: &Self::StepSaved,
        d_state: Self::State,
    ) -> (Array2<T>, Self::State);
    /// Accumulates the gradient of the initial state, summed over the batch.
    fn accumulate_initial(&mut self, d_state: Self::State);
    /// The matrix that multiplies the hidden state at each step (`wh`).
    fn recurrence_matrix(&self) -> &Array2<T>;
    /// The L2 norm of a state (or state gradient), all its arrays together.
    fn state_norm(state: &Self::State) -> f64;
}

/// The `Layer` impl of a sequence layer: `[time, batch, features]` in, every
/// hidden state out, through [`unroll`] and [`backprop_through_time`].
macro_rules! sequence_layer {
    ($layer:ident, $step_saved:ident) => {
        impl<T: Real> Layer<T> for $layer<T> {
            type Input = Array3<T>;
            type Output = Array3<T>;
            type InputGrad = Array3<T>;
            type Saved = Vec<$step_saved<T>>;

            fn forward(&self, x: &Array3<T>) -> Array3<T> {
                // One step function serves both modes; evaluation drops what it saved.
                unroll(self, x).0
            }

            fn forward_train(&mut self, x: &Array3<T>) -> (Array3<T>, Self::Saved) {
                unroll(self, x)
            }

            fn backward(&mut self, saved: Self::Saved, d_out: &Array3<T>) -> Array3<T> {
                backprop_through_time(self, saved, d_out)
            }
        }
    };
}

/// Runs `layer` over the time steps of `x` (`[time, batch, features]`): every hidden
/// state (`[time, batch, hidden]`) and what each step's backward needs.
fn unroll<T: Real, R: Recurrence<T>>(layer: &R, x: &Array3<T>) -> (Array3<T>, Vec<R::StepSaved>) {
    assert!(
        x.len_of(Axis(0)) > 0,
        "a sequence needs at least one time step, got shape {:?}",
        x.shape()
    );
    let mut state = layer.initial_state(x.len_of(Axis(1)));
    let mut hidden = Vec::with_capacity(x.len_of(Axis(0)));
    let mut saved = Vec::with_capacity(x.len_of(Axis(0)));
    for x_t in x.outer_iter() {
        let (next, step_saved) = layer.step(x_t, &state);
        hidden.push(R::hidden(&next).clone());
        saved.push(step_saved);
        state = next;
    }
    (stack_steps(&hidden), saved)
}

/// Backpropagation through time: walks the steps in reverse, adding each step's
/// upstream gradient `d_out[t]` to the gradient of `h` carried back from step `t + 1`,
/// running the step's generated backward, and carrying the gradient of the previous
/// state on. Weight gradients accumulate over the steps; the gradient left at the
/// start goes to the initial state. Returns the input gradient `[time, batch, features]`.
fn backprop_through_time<T: Real, R: Recurrence<T>>(
    layer: &mut R,
    saved: Vec<R::StepSaved>,
    d_out: &Array3<T>,
) -> Array3<T> {
    assert_eq!(
        d_out.len_of(Axis(0)),
        saved.len(),
        "the output gradient has {} time steps, the forward pass had {}",
        d_out.len_of(Axis(0)),
        saved.len()
    );
    let mut d_state = layer.zero_state(d_out.len_of(Axis(1)));
    let mut d_x = Vec::with_capacity(saved.len());
    // Measured only for a listening monitor (one thread-local read otherwise).
    let listening = monitor::recording();
    let mut record = listening.map(|_| GradientThroughTime::new());
    for (step_saved, d_out_t) in saved.iter().zip(d_out.outer_iter()).rev() {
        *R::hidden_mut(&mut d_state) += &d_out_t;
        if let Some(record) = &mut record {
            record.push_step_norm(R::state_norm(&d_state));
        }
        let (d_x_t, d_prev) = layer.step_backward(step_saved, d_state);
        d_x.push(d_x_t);
        d_state = d_prev;
    }
    layer.accumulate_initial(d_state);
    if let Some(mut record) = record {
        if listening == Some(true) {
            record.largest_singular_value = Some(monitor::largest_singular_value(
                layer.recurrence_matrix(),
                monitor::POWER_ITERATIONS,
            ));
        }
        monitor::deliver(record);
    }
    d_x.reverse();
    stack_steps(&d_x)
}

/// `[batch, n]` arrays, one per time step, stacked into `[time, batch, n]`.
fn stack_steps<T: Real>(steps: &[Array2<T>]) -> Array3<T> {
    let views: Vec<ArrayView2<'_, T>> = steps.iter().map(|s| s.view()).collect();
    ndarray::stack(Axis(0), &views).expect("every step has the same shape")
}

/// `v` on each of `batch` rows.
fn rows_of<T: Real>(v: &Array1<T>, batch: usize) -> Array2<T> {
    v.broadcast((batch, v.len()))
        .expect("a vector broadcasts to rows")
        .to_owned()
}

/// Input weights `[inputs, gates * hidden]` (Xavier uniform), recurrent weights
/// `[hidden, gates * hidden]` (orthogonal) and a zero bias `[gates * hidden]`.
fn recurrent_weights<T: Real>(
    inputs: usize,
    hidden: usize,
    gates: usize,
    rng: &mut SeededRng,
) -> (Param<T, Ix2>, Param<T, Ix2>, Param<T, Ix1>) {
    (
        Param::new(init::xavier_uniform((inputs, gates * hidden), rng)),
        Param::new(init::orthogonal((hidden, gates * hidden), 1.0, rng)),
        Param::new(init::zeros(gates * hidden)),
    )
}

/// A vanilla (Elman) RNN over a sequence: `h_t = tanh(x_t wx + h_{t-1} wh + b)` for
/// each time step (see [`rnn_cell`]), from `x` of shape `[time, batch, inputs]` to all
/// hidden states `[time, batch, hidden]`.
///
/// The initial state `h_{-1}` is the parameter `h0` (`[hidden]`, initially zero),
/// the same for every sequence of the batch; its gradient, summed over the batch, is
/// accumulated in `h0.grad` like any weight's. Follow the layer with [`LastStep`] to
/// keep only the final state.
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn<T: Real> {
    /// Input weights, `[inputs, hidden]`.
    pub wx: Param<T, Ix2>,
    /// Recurrent weights, `[hidden, hidden]`.
    pub wh: Param<T, Ix2>,
    /// Bias, `[hidden]`.
    pub b: Param<T, Ix1>,
    /// The initial hidden state, `[hidden]`.
    pub h0: Param<T, Ix1>,
}

impl<T: Real> Rnn<T> {
    /// A layer from `inputs` features to `hidden` units: Xavier-uniform input weights,
    /// orthogonal recurrent weights, zero bias and zero initial state.
    pub fn new(inputs: usize, hidden: usize, rng: &mut SeededRng) -> Self {
        let (wx, wh, b) = recurrent_weights(inputs, hidden, 1, rng);
        Rnn {
            wx,
            wh,
            b,
            h0: Param::new(init::zeros(hidden)),
        }
    }
}

impl<T: Real> Recurrence<T> for Rnn<T> {
    type State = Array2<T>;
    type StepSaved = RnnCellSaved<T>;

    fn initial_state(&self, batch: usize) -> Array2<T> {
        rows_of(&self.h0.value, batch)
    }

    fn zero_state(&self, batch: usize) -> Array2<T> {
        Array2::zeros((batch, self.h0.value.len()))
    }

    fn hidden(h: &Array2<T>) -> &Array2<T> {
        h
    }

    fn hidden_mut(h: &mut Array2<T>) -> &mut Array2<T> {
        h
    }

    fn step(&self, x: ArrayView2<T>, h: &Array2<T>) -> (Array2<T>, RnnCellSaved<T>) {
        let (wx, wh, b) = (&self.wx.value, &self.wh.value, &self.b.value);
        rnn_cell_train(x, h.view(), wx.view(), wh.view(), b.view())
    }

    fn step_backward(&mut self, saved: &RnnCellSaved<T>, d_h: Array2<T>) -> (Array2<T>, Array2<T>) {
        let grads = rnn_cell_backward(saved, d_h.view());
        self.wx.accumulate(&grads.wx);
        self.wh.accumulate(&grads.wh);
        self.b.accumulate(&grads.b);
        (grads.x, grads.h_prev)
    }

    fn accumulate_initial(&mut self, d_h: Array2<T>) {
        self.h0.accumulate(&d_h.sum_axis(Axis(0)));
    }

    fn recurrence_matrix(&self) -> &Array2<T> {
        &self.wh.value
    }

    fn state_norm(h: &Array2<T>) -> f64 {
        monitor::squared_norm(h).sqrt()
    }
}

impl<T: Real> Parameters<T> for Rnn<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        f(self.wx.as_param_mut("wx"));
        f(self.wh.as_param_mut("wh"));
        f(self.b.as_param_mut("b"));
        f(self.h0.as_param_mut("h0"));
    }
}

sequence_layer!(Rnn, RnnCellSaved);

/// An LSTM over a sequence: [`lstm_cell`] at each time step, from `x` of shape
/// `[time, batch, inputs]` to all hidden states `h_t`, `[time, batch, hidden]`.
///
/// The initial states `h_{-1}` and `c_{-1}` are the parameters `h0` and `c0`
/// (`[hidden]`, initially zero), the same for every sequence of the batch; their
/// gradients, summed over the batch, are accumulated in `h0.grad` and `c0.grad`.
/// Follow the layer with [`LastStep`] to keep only the final hidden state.
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm<T: Real> {
    /// Input weights, `[inputs, 4 hidden]`, gate blocks in the order i, f, o, g.
    pub wx: Param<T, Ix2>,
    /// Recurrent weights, `[hidden, 4 hidden]`.
    pub wh: Param<T, Ix2>,
    /// Bias, `[4 hidden]`.
    pub b: Param<T, Ix1>,
    /// The initial hidden state, `[hidden]`.
    pub h0: Param<T, Ix1>,
    /// The initial cell state, `[hidden]`.
    pub c0: Param<T, Ix1>,
}

impl<T: Real> Lstm<T> {
    /// A layer from `inputs` features to `hidden` units: Xavier-uniform input weights,
    /// orthogonal recurrent weights, zero bias except 1 for the forget gate (so that
    /// the cell remembers from the start; Jozefowicz et al., 2015), zero initial states.
    pub fn new(inputs: usize, hidden: usize, rng: &mut SeededRng) -> Self {
        let (wx, wh, mut b) = recurrent_weights(inputs, hidden, 4, rng);
        b.value
            .slice_axis_mut(Axis(0), Slice::from(hidden..2 * hidden))
            .fill(T::one());
        Lstm {
            wx,
            wh,
            b,
            h0: Param::new(init::zeros(hidden)),
            c0: Param::new(init::zeros(hidden)),
        }
    }
}

impl<T: Real> Recurrence<T> for Lstm<T> {
    type State = (Array2<T>, Array2<T>);
    type StepSaved = LstmCellSaved<T>;

    fn initial_state(&self, batch: usize) -> Self::State {
        (
            rows_of(&self.h0.value, batch),
            rows_of(&self.c0.value, batch),
        )
    }

    fn zero_state(&self, batch: usize) -> Self::State {
        let zeros = Array2::zeros((batch, self.h0.value.len()));
        (zeros.clone(), zeros)
    }

    fn hidden((h, _): &Self::State) -> &Array2<T> {
        h
    }

    fn hidden_mut((h, _): &mut Self::State) -> &mut Array2<T> {
        h
    }

    fn step(&self, x: ArrayView2<T>, (h, c): &Self::State) -> (Self::State, LstmCellSaved<T>) {
        let (wx, wh, b) = (&self.wx.value, &self.wh.value, &self.b.value);
        lstm_cell_train(x, h.view(), c.view(), wx.view(), wh.view(), b.view())
    }

    fn step_backward(
        &mut self,
        saved: &LstmCellSaved<T>,
        (d_h, d_c): Self::State,
    ) -> (Array2<T>, Self::State) {
        let grads = lstm_cell_backward(saved, (d_h.view(), d_c.view()));
        self.wx.accumulate(&grads.wx);
        self.wh.accumulate(&grads.wh);
        self.b.accumulate(&grads.b);
        (grads.x, (grads.h_prev, grads.c_prev))
    }

    fn accumulate_initial(&mut self, (d_h, d_c): Self::State) {
        self.h0.accumulate(&d_h.sum_axis(Axis(0)));
        self.c0.accumulate(&d_c.sum_axis(Axis(0)));
    }

    fn recurrence_matrix(&self) -> &Array2<T> {
        &self.wh.value
    }

    fn state_norm((h, c): &Self::State) -> f64 {
        (monitor::squared_norm(h) + monitor::squared_norm(c)).sqrt()
    }
}

impl<T: Real> Parameters<T> for Lstm<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        f(self.wx.as_param_mut("wx"));
        f(self.wh.as_param_mut("wh"));
        f(self.b.as_param_mut("b"));
        f(self.h0.as_param_mut("h0"));
        f(self.c0.as_param_mut("c0"));
    }
}

sequence_layer!(Lstm, LstmCellSaved);

/// The last time step of a sequence, `y = x[time - 1]`: `[time, batch, n]` to
/// `[batch, n]`. It has no parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastStep<T> {
    float: PhantomData<T>,
}

impl<T> LastStep<T> {
    /// The layer.
    pub fn new() -> Self {
        LastStep { float: PhantomData }
    }
}

impl<T> Default for LastStep<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// `y = x[time - 1]`: the last step, as a length-1 slice summed over its one step.
#[differentiable(layer = LastStep)]
pub fn last_step<T: Real>(x: ArrayView3<T>) -> Array2<T> {
    let steps = x.len_of(Axis(0));
    x.slice_axis(Axis(0), steps - 1..steps).sum_axis(Axis(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{check, random};

    /// Random weights and initial states, so that every gradient is checked away from zero.
    fn randomize<T: Parameters<f64>>(layer: &mut T) {
        let mut seed = 100;
        layer.visit_params(&mut |mut p| {
            seed += 1;
            let shape = p.value.raw_dim();
            p.value.assign(&(random(shape, seed) * 0.5));
        });
    }

    #[test]
    fn rnn_backprop_through_time_passes_the_gradient_check() {
        let mut rnn = Rnn::new(3, 4, &mut SeededRng::new(0));
        randomize(&mut rnn);
        // Checks x, wx, wh, b and the initial state h0 through all 5 steps.
        check(&mut rnn, &random((5, 2, 3), 1));
    }

    #[test]
    fn lstm_backprop_through_time_passes_the_gradient_check() {
        let mut lstm = Lstm::new(3, 4, &mut SeededRng::new(0));
        randomize(&mut lstm);
        // Checks x, wx, wh, b and the initial states h0 and c0 through all 5 steps.
        check(&mut lstm, &random((5, 2, 3), 1));
    }

    #[test]
    fn last_step_passes_the_gradient_check() {
        check(&mut LastStep::new(), &random((4, 2, 3), 1));
    }

    #[test]
    fn sequence_layers_apply_their_cell_at_each_step() {
        let mut rnn = Rnn::new(2, 3, &mut SeededRng::new(1));
        randomize(&mut rnn);
        let x = random((4, 2, 2), 2);
        let hs = rnn.forward(&x);
        assert_eq!(hs.shape(), &[4, 2, 3]);
        let mut h = rows_of(&rnn.h0.value, 2);
        for (t, x_t) in x.outer_iter().enumerate() {
            h = rnn_cell(
                x_t,
                h.view(),
                rnn.wx.value.view(),
                rnn.wh.value.view(),
                rnn.b.value.view(),
            );
            assert_eq!(hs.index_axis(Axis(0), t), h);
        }
        assert_eq!(LastStep::new().forward(&hs), h);

        let mut lstm = Lstm::new(2, 3, &mut SeededRng::new(1));
        let forget_bias = lstm.b.value.slice_axis(Axis(0), Slice::from(3..6));
        assert_eq!(forget_bias, ndarray::Array1::<f64>::ones(3));
        randomize(&mut lstm);
        let hs = lstm.forward(&x);
        let (mut h, mut c) = (rows_of(&lstm.h0.value, 2), rows_of(&lstm.c0.value, 2));
        for x_t in x.outer_iter() {
            let (wx, wh, b) = (
                lstm.wx.value.view(),
                lstm.wh.value.view(),
                lstm.b.value.view(),
            );
            (h, c) = lstm_cell(x_t, h.view(), c.view(), wx, wh, b);
        }
        assert_eq!(LastStep::new().forward(&hs), h);
    }

    #[test]
    fn the_initial_state_gradient_is_the_gradient_through_the_first_step() {
        // With a one-step sequence, BPTT reduces to the cell's generated backward.
        let mut rnn = Rnn::new(2, 3, &mut SeededRng::new(3));
        randomize(&mut rnn);
        let x = random((1, 2, 2), 4);
        let d_out = random((1, 2, 3), 5);
        let (_, saved) = rnn.forward_train(&x);
        rnn.zero_grad();
        rnn.backward(saved, &d_out);
        let h0 = rows_of(&rnn.h0.value, 2);
        let (wx, wh, b) = (rnn.wx.value.view(), rnn.wh.value.view(), rnn.b.value.view());
        let (_, cell_saved) = rnn_cell_train(x.index_axis(Axis(0), 0), h0.view(), wx, wh, b);
        let grads = rnn_cell_backward(&cell_saved, d_out.index_axis(Axis(0), 0));
        assert_eq!(rnn.h0.grad, grads.h_prev.sum_axis(Axis(0)));
    }
}
