//! Recurrent layers over sequences laid out `[time, batch, features]`: the cells are
//! `#[differentiable]` functions of one step; the loop over time and its
//! backpropagation through time are ordinary Rust around them.

use std::marker::PhantomData;

use backprop_macros::differentiable;
use ndarray::{
    Array1, Array2, Array3, ArrayRef3, ArrayView1, ArrayView2, ArrayView3, Axis, Ix1, Ix2, Slice,
};

use crate::monitor::{self, GradientThroughTime};
use crate::{Layer, Param, ParamMut, Parameters, Real, SeededRng, init};

/// One step of a vanilla RNN: `h = tanh(x wx + h_prev wh + b)`, with `x` of shape
/// `[batch, inputs]`, `h_prev` and `h` of shape `[batch, hidden]`.
#[differentiable(check(x = [2, 3], h_prev = [2, 4], wx = [3, 4], wh = [4, 4], b = [4]))]
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
#[differentiable(check(
    scale = 0.5,
    x = [2, 3],
    h_prev = [2, 4],
    c_prev = [2, 4],
    wx = [3, 16],
    wh = [4, 16],
    b = [16]
))]
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

/// The state a recurrence carries from step to step, and its gradient: `h`
/// (`Array2<T>`, `[batch, hidden]`) or `(h, c)` (`(Array2<T>, Array2<T>)`, an
/// LSTM's). The first array is the hidden state a step outputs; every array has
/// its shape.
pub trait State<T: Real>: Sized {
    /// The names of the learned initial values of its arrays, in order, as
    /// [`Recurrent`] names its parameters (`["h0"]`, `["h0", "c0"]`).
    const NAMES: &'static [&'static str];

    /// Its arrays, each `[batch, hidden]`, the hidden state first.
    fn arrays(&self) -> Vec<&Array2<T>>;

    /// Its arrays, mutably.
    fn arrays_mut(&mut self) -> Vec<&mut Array2<T>>;

    /// The state of these arrays, in the order of [`State::arrays`].
    ///
    /// # Panics
    /// If there are not as many arrays as [`State::NAMES`] says.
    fn from_arrays(arrays: Vec<Array2<T>>) -> Self;
}

impl<T: Real> State<T> for Array2<T> {
    const NAMES: &'static [&'static str] = &["h0"];

    fn arrays(&self) -> Vec<&Array2<T>> {
        vec![self]
    }

    fn arrays_mut(&mut self) -> Vec<&mut Array2<T>> {
        vec![self]
    }

    fn from_arrays(arrays: Vec<Array2<T>>) -> Self {
        let [h] = <[Array2<T>; 1]>::try_from(arrays).expect("a state of one array");
        h
    }
}

impl<T: Real> State<T> for (Array2<T>, Array2<T>) {
    const NAMES: &'static [&'static str] = &["h0", "c0"];

    fn arrays(&self) -> Vec<&Array2<T>> {
        vec![&self.0, &self.1]
    }

    fn arrays_mut(&mut self) -> Vec<&mut Array2<T>> {
        vec![&mut self.0, &mut self.1]
    }

    fn from_arrays(arrays: Vec<Array2<T>>) -> Self {
        let [h, c] = <[Array2<T>; 2]>::try_from(arrays).expect("a state of two arrays");
        (h, c)
    }
}

/// The L2 norm of all of a state's arrays together.
fn state_norm<T: Real, S: State<T>>(state: &S) -> f64 {
    state
        .arrays()
        .iter()
        .map(|a| monitor::squared_norm(*a))
        .sum::<f64>()
        .sqrt()
}

/// One step of a recurrence, written around a `#[differentiable]` cell: what
/// [`unroll`] runs at every time step and [`backprop_through_time`] runs back.
///
/// [`Rnn`] and [`Lstm`] implement it; a cell of your own (a GRU, say) does in a
/// dozen lines around its generated `_train` and `_backward`, and then runs over
/// sequences with [`unroll`] and [`backprop_through_time`] (a per-sample initial
/// state), or as a layer in a model with [`Recurrent`] (a learned one).
pub trait Cell<T: Real>: Parameters<T> {
    /// The state carried from step to step; its gradient has the same type.
    type State: State<T>;
    /// What the backward of one step needs.
    type StepSaved;

    /// One step forward from `x` (`[batch, inputs]`) and the previous state: the
    /// next state and what its backward needs.
    fn step(&self, x: ArrayView2<'_, T>, state: &Self::State) -> (Self::State, Self::StepSaved);

    /// One step back from the gradient of the state it produced: accumulates the
    /// cell's parameter gradients and returns the gradients of the step's input
    /// and of the previous state.
    fn step_backward(
        &mut self,
        saved: &Self::StepSaved,
        d_state: Self::State,
    ) -> (Array2<T>, Self::State);

    /// The matrix that multiplies the hidden state at each step, if there is one:
    /// the monitors estimate its largest singular value.
    fn recurrence_matrix(&self) -> Option<&Array2<T>> {
        None
    }
}

/// Runs `cell` over the time steps of `x` (`[time, batch, inputs]`) from the
/// state `initial` (`[batch, hidden]` arrays: per sample): every hidden state
/// (`[time, batch, hidden]`) and what each step's backward needs, in order.
///
/// # Panics
/// If `x` has no time step, or as the cell panics on shapes that do not fit.
pub fn unroll<T: Real, C: Cell<T>>(
    cell: &C,
    x: &ArrayRef3<T>,
    initial: C::State,
) -> (Array3<T>, Vec<C::StepSaved>) {
    assert!(
        x.len_of(Axis(0)) > 0,
        "a sequence needs at least one time step, got shape {:?}",
        x.shape()
    );
    let mut state = initial;
    let mut hidden = Vec::with_capacity(x.len_of(Axis(0)));
    let mut saved = Vec::with_capacity(x.len_of(Axis(0)));
    for x_t in x.outer_iter() {
        let (next, step_saved) = cell.step(x_t, &state);
        hidden.push(next.arrays()[0].clone());
        saved.push(step_saved);
        state = next;
    }
    (stack_steps(&hidden), saved)
}

/// Backpropagation through time of an [`unroll`]: walks the steps in reverse,
/// adding each step's upstream gradient `d_out[t]` (`[time, batch, hidden]`, the
/// gradient of every hidden state) to the gradient of `h` carried back from step
/// `t + 1`, running the step's backward, and carrying the gradient of the
/// previous state on. The cell's parameter gradients accumulate over the steps.
/// Returns the gradient of the input (`[time, batch, inputs]`) and of the
/// initial state.
///
/// A [`Monitor`](crate::monitor::Monitor) listening through
/// [`record_through_time`](crate::monitor::record_through_time) (as a model's
/// does) gets the gradient's norm at every step.
///
/// # Panics
/// If `d_out` does not have one step per saved step.
pub fn backprop_through_time<T: Real, C: Cell<T>>(
    cell: &mut C,
    saved: Vec<C::StepSaved>,
    d_out: &ArrayRef3<T>,
) -> (Array3<T>, C::State) {
    assert_eq!(
        d_out.len_of(Axis(0)),
        saved.len(),
        "the output gradient has {} time steps, the forward pass had {}",
        d_out.len_of(Axis(0)),
        saved.len()
    );
    let Some(first) = d_out.outer_iter().next() else {
        panic!("a sequence needs at least one time step");
    };
    let mut d_state: Option<C::State> = None;
    let mut d_x = Vec::with_capacity(saved.len());
    // Measured only for a listening monitor (one thread-local read otherwise).
    let listening = monitor::recording();
    let mut record = listening.map(|_| GradientThroughTime::new());
    for (step_saved, d_out_t) in saved.iter().zip(d_out.outer_iter()).rev() {
        // After the last step nothing carries back but the output's gradient.
        let mut d = match d_state.take() {
            Some(d) => d,
            None => {
                let zeros = vec![Array2::zeros(first.raw_dim()); C::State::NAMES.len()];
                C::State::from_arrays(zeros)
            }
        };
        *d.arrays_mut()[0] += &d_out_t;
        if let Some(record) = &mut record {
            record.push_step_norm(state_norm(&d));
        }
        let (d_x_t, d_prev) = cell.step_backward(step_saved, d);
        d_x.push(d_x_t);
        d_state = Some(d_prev);
    }
    if let Some(mut record) = record {
        if listening == Some(true)
            && let Some(w) = cell.recurrence_matrix()
        {
            record.largest_singular_value = Some(monitor::largest_singular_value(
                w,
                monitor::POWER_ITERATIONS,
            ));
        }
        monitor::deliver(record);
    }
    d_x.reverse();
    let d_initial = d_state.expect("at least one step was walked");
    (stack_steps(&d_x), d_initial)
}

/// A cell over sequences as a layer: `[time, batch, inputs]` in, every hidden
/// state `[time, batch, hidden]` out, from a learned initial state (one
/// `[hidden]` parameter per state array, the same for every sequence of a batch,
/// named `h0` (and `c0`)). Parameters: the cell's, then the initial state's.
///
/// For an initial state per sample (`[batch, hidden]`, as the CS231n layers
/// take), call [`unroll`] and [`backprop_through_time`] on the cell instead.
#[derive(Clone, Debug, PartialEq)]
pub struct Recurrent<T: Real, C> {
    /// The cell run at every step.
    pub cell: C,
    /// The learned initial state: one `[hidden]` vector per state array.
    pub initial: Vec<Param<T, Ix1>>,
}

impl<T: Real, C: Cell<T>> Recurrent<T, C> {
    /// The layer of `cell` with `hidden` units and a zero initial state.
    pub fn new(cell: C, hidden: usize) -> Self {
        let initial = C::State::NAMES
            .iter()
            .map(|_| Param::new(init::zeros(hidden)))
            .collect();
        Recurrent { cell, initial }
    }
}

/// The learned initial state on every row of a batch, and its gradient summed
/// over the batch: what [`Recurrent`], [`Rnn`] and [`Lstm`] share.
fn learned_initial<T: Real, S: State<T>>(initial: &[&Param<T, Ix1>], batch: usize) -> S {
    S::from_arrays(initial.iter().map(|p| rows_of(&p.value, batch)).collect())
}

fn accumulate_initial<T: Real, S: State<T>>(initial: &mut [&mut Param<T, Ix1>], d: S) {
    for (p, d) in initial.iter_mut().zip(d.arrays()) {
        p.accumulate(&d.sum_axis(Axis(0)));
    }
}

/// The `Layer` impl of a sequence layer: `[time, batch, features]` in, every
/// hidden state out, through [`unroll`] and [`backprop_through_time`] from the
/// learned initial state `$initial` (its fields, in state order).
macro_rules! sequence_layer {
    ($layer:ty, [$($generics:tt)*], |$this:ident| $initial:expr, |$this_mut:ident| $initial_mut:expr) => {
        impl<$($generics)*> Layer<T> for $layer {
            type Input = Array3<T>;
            type Output = Array3<T>;
            type InputGrad = Array3<T>;
            type Saved = Vec<<Self as Cell<T>>::StepSaved>;

            fn forward(&self, x: &Array3<T>) -> Array3<T> {
                // One step function serves both modes; evaluation drops what it saved.
                let $this = self;
                unroll(self, x, learned_initial(&$initial, x.len_of(Axis(1)))).0
            }

            fn forward_train(&mut self, x: &Array3<T>) -> (Array3<T>, Self::Saved) {
                let $this = &*self;
                let initial = learned_initial(&$initial, x.len_of(Axis(1)));
                unroll(&*self, x, initial)
            }

            fn backward(&mut self, saved: Self::Saved, d_out: &Array3<T>) -> Array3<T> {
                let (d_x, d_initial) = backprop_through_time(self, saved, d_out);
                let $this_mut = self;
                accumulate_initial(&mut $initial_mut, d_initial);
                d_x
            }
        }
    };
}

sequence_layer!(
    Recurrent<T, C>,
    [T: Real, C: Cell<T>],
    |this| this.initial.iter().collect::<Vec<_>>(),
    |this| this.initial.iter_mut().collect::<Vec<_>>()
);

impl<T: Real, C: Cell<T>> Cell<T> for Recurrent<T, C> {
    type State = C::State;
    type StepSaved = C::StepSaved;

    fn step(&self, x: ArrayView2<'_, T>, state: &Self::State) -> (Self::State, Self::StepSaved) {
        self.cell.step(x, state)
    }

    fn step_backward(
        &mut self,
        saved: &Self::StepSaved,
        d_state: Self::State,
    ) -> (Array2<T>, Self::State) {
        self.cell.step_backward(saved, d_state)
    }

    fn recurrence_matrix(&self) -> Option<&Array2<T>> {
        self.cell.recurrence_matrix()
    }
}

impl<T: Real, C: Cell<T>> Parameters<T> for Recurrent<T, C> {
    fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        self.cell.visit_params(f);
        for (p, name) in self.initial.iter_mut().zip(C::State::NAMES) {
            f(p.as_param_mut(name));
        }
    }
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
#[derive(Clone, Debug, PartialEq, Parameters)]
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

impl<T: Real> Cell<T> for Rnn<T> {
    type State = Array2<T>;
    type StepSaved = RnnCellSaved<T>;

    fn step(&self, x: ArrayView2<'_, T>, h: &Array2<T>) -> (Array2<T>, RnnCellSaved<T>) {
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

    fn recurrence_matrix(&self) -> Option<&Array2<T>> {
        Some(&self.wh.value)
    }
}

sequence_layer!(Rnn<T>, [T: Real], |this| [&this.h0], |this| [&mut this.h0]);

/// An LSTM over a sequence: [`lstm_cell`] at each time step, from `x` of shape
/// `[time, batch, inputs]` to all hidden states `h_t`, `[time, batch, hidden]`.
///
/// The initial states `h_{-1}` and `c_{-1}` are the parameters `h0` and `c0`
/// (`[hidden]`, initially zero), the same for every sequence of the batch; their
/// gradients, summed over the batch, are accumulated in `h0.grad` and `c0.grad`.
/// Follow the layer with [`LastStep`] to keep only the final hidden state.
#[derive(Clone, Debug, PartialEq, Parameters)]
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

impl<T: Real> Cell<T> for Lstm<T> {
    type State = (Array2<T>, Array2<T>);
    type StepSaved = LstmCellSaved<T>;

    fn step(&self, x: ArrayView2<'_, T>, (h, c): &Self::State) -> (Self::State, LstmCellSaved<T>) {
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

    fn recurrence_matrix(&self) -> Option<&Array2<T>> {
        Some(&self.wh.value)
    }
}

sequence_layer!(
    Lstm<T>,
    [T: Real],
    |this| [&this.h0, &this.c0],
    |this| [&mut this.h0, &mut this.c0]
);

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
#[differentiable(layer = LastStep, check(x = [4, 2, 3]))]
pub fn last_step<T: Real>(x: ArrayView3<T>) -> Array2<T> {
    let steps = x.len_of(Axis(0));
    x.slice_axis(Axis(0), steps - 1..steps).sum_axis(Axis(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{check, random};
    use ndarray::Array2;

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

    /// A GRU step (Cho et al., 2014) as a user writes it: update gate `z`, reset
    /// gate `r`, candidate `n`, and `h = (1 - z) n + z h_prev`.
    #[differentiable]
    fn gru_cell<T: Real>(
        x: ArrayView2<T>,
        h_prev: ArrayView2<T>,
        wx: ArrayView2<T>,
        wh: ArrayView2<T>,
        b: ArrayView1<T>,
    ) -> Array2<T> {
        let n = h_prev.ncols();
        let gx = x.dot(&wx) + &b;
        let z = sigmoid(gx.slice_axis(Axis(1), 0..n) + h_prev.dot(&wh.slice_axis(Axis(1), 0..n)));
        let r = sigmoid(
            gx.slice_axis(Axis(1), n..2 * n) + h_prev.dot(&wh.slice_axis(Axis(1), n..2 * n)),
        );
        let candidate = tanh(
            gx.slice_axis(Axis(1), 2 * n..3 * n)
                + (r * &h_prev).dot(&wh.slice_axis(Axis(1), 2 * n..3 * n)),
        );
        (1.0 - &z) * candidate + z * &h_prev
    }

    /// The user's cell: its parameters (named by the derive) and the dozen lines of `Cell`.
    #[derive(Parameters)]
    struct Gru {
        wx: Param<f64, Ix2>,
        wh: Param<f64, Ix2>,
        b: Param<f64, Ix1>,
    }

    impl Cell<f64> for Gru {
        type State = Array2<f64>;
        type StepSaved = GruCellSaved<f64>;

        fn step(
            &self,
            x: ArrayView2<'_, f64>,
            h: &Array2<f64>,
        ) -> (Array2<f64>, GruCellSaved<f64>) {
            gru_cell_train(
                x,
                h.view(),
                self.wx.value.view(),
                self.wh.value.view(),
                self.b.value.view(),
            )
        }

        fn step_backward(
            &mut self,
            saved: &GruCellSaved<f64>,
            d_h: Array2<f64>,
        ) -> (Array2<f64>, Array2<f64>) {
            let g = gru_cell_backward(saved, d_h.view());
            self.wx.accumulate(&g.wx);
            self.wh.accumulate(&g.wh);
            self.b.accumulate(&g.b);
            (g.x, g.h_prev)
        }
    }

    fn gru(inputs: usize, hidden: usize) -> Recurrent<f64, Gru> {
        let mut layer = Recurrent::new(
            Gru {
                wx: Param::new(random((inputs, 3 * hidden), 11) * 0.5),
                wh: Param::new(random((hidden, 3 * hidden), 12) * 0.5),
                b: Param::new(random(3 * hidden, 13) * 0.5),
            },
            hidden,
        );
        layer.initial[0].value = random(hidden, 14) * 0.5;
        layer
    }

    #[test]
    fn a_users_cell_runs_over_sequences_with_its_gradients_checked() {
        // x, wx, wh, b and the learned initial state h0, through all 5 steps.
        let mut layer = gru(3, 4);
        let mut names = Vec::new();
        layer.visit_params(&mut |p| names.push(p.name.to_string()));
        assert_eq!(names, ["wx", "wh", "b", "h0"]);
        check(&mut layer, &random((5, 2, 3), 1));
    }

    #[test]
    fn a_per_sample_initial_state_gets_its_own_gradient() {
        // The CS231n recurrent layers: h0 given per sample, [batch, hidden].
        let mut layer = gru(3, 4);
        let x = random((6, 2, 3), 2);
        let h0 = random((2, 4), 3);
        let r = random((6, 2, 4), 4);
        let loss = |cell: &Gru, h0: &Array2<f64>| (unroll(cell, &x, h0.clone()).0 * &r).sum();
        let (_, saved) = unroll(&layer.cell, &x, h0.clone());
        let (d_x, d_h0) = backprop_through_time(&mut layer.cell, saved, &r);
        assert_eq!((d_x.shape(), d_h0.shape()), (&[6, 2, 3][..], &[2, 4][..]));
        let eps = 1e-5;
        for i in 0..2 {
            for j in 0..4 {
                let (mut up, mut down) = (h0.clone(), h0.clone());
                up[[i, j]] += eps;
                down[[i, j]] -= eps;
                let numeric = (loss(&layer.cell, &up) - loss(&layer.cell, &down)) / (2.0 * eps);
                let err =
                    (d_h0[[i, j]] - numeric).abs() / (d_h0[[i, j]].abs() + numeric.abs()).max(1e-8);
                assert!(err < 1e-7, "d_h0[{i}, {j}]: {} vs {numeric}", d_h0[[i, j]]);
            }
        }
        // The rows are independent: sample 0's state does not reach sample 1.
        let mut moved = h0.clone();
        moved[[0, 0]] += 1.0;
        let (a, _) = unroll(&layer.cell, &x, h0);
        let (b, _) = unroll(&layer.cell, &x, moved);
        assert_eq!(a.index_axis(Axis(1), 1), b.index_axis(Axis(1), 1));
        // The built-in cells run the same way: an LSTM from a per-sample (h, c).
        let lstm = Lstm::<f64>::new(3, 4, &mut SeededRng::new(0));
        let state = (random((2, 4), 5), random((2, 4), 6));
        let (hs, _) = unroll(&lstm, &x, state);
        assert_eq!(hs.shape(), &[6, 2, 4]);
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

    /// The steps of a sequence share one copy of the cell's weights (and each
    /// step's input state is the copy of the state the step before produced),
    /// instead of a copy per step.
    #[test]
    fn the_steps_of_a_sequence_share_the_copies_of_the_weights() {
        let mut rnn = Rnn::new(2, 3, &mut SeededRng::new(3));
        randomize(&mut rnn);
        let x = random((5, 2, 2), 4);
        let (_, saved) = rnn.forward_train(&x);
        assert_eq!(saved.len(), 5);
        for pair in saved.windows(2) {
            assert_eq!(pair[0].wh.as_ptr(), pair[1].wh.as_ptr());
            assert_eq!(pair[0].out.as_ptr(), pair[1].h_prev.as_ptr());
        }
        assert_eq!(*saved[4].wh, rnn.wh.value);
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
