//! `cell = Name`: a step `(x, state) -> state` written once becomes a
//! `layers::Cell` that `layers::Recurrent` runs over time, with a learned
//! initial state, and whose gradients through time are checked here.

use backprop::layers::{Cell, Recurrent, backprop_through_time, unroll};
use backprop::prelude::*;
use backprop::{GradCheck, SeededRng, check_layer, init};

/// A GRU step (Cho et al., 2014).
#[differentiable(
    cell = Gru,
    recurrence = wh,
    check(x = [2, 3], h_prev = [2, 4], wx = [3, 12], wh = [4, 12], b = [12], scale = 0.5)
)]
pub fn gru_step<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    let n = h_prev.ncols();
    let gx = x.dot(&wx) + &b;
    let z = sigmoid(gx.slice_axis(Axis(1), 0..n) + h_prev.dot(&wh.slice_axis(Axis(1), 0..n)));
    let r =
        sigmoid(gx.slice_axis(Axis(1), n..2 * n) + h_prev.dot(&wh.slice_axis(Axis(1), n..2 * n)));
    let candidate = tanh(
        gx.slice_axis(Axis(1), 2 * n..3 * n)
            + (r * &h_prev).dot(&wh.slice_axis(Axis(1), 2 * n..3 * n)),
    );
    (1.0 - &z) * candidate + z * &h_prev
}

/// The cell's parameters: the fields named like the step's inputs after the state.
pub struct Gru<T: Real> {
    wx: Param<T, Ix2>,
    wh: Param<T, Ix2>,
    b: Param<T, Ix1>,
}

/// A cell with a two-array state `(h, c)`: a minimal LSTM without an output gate.
#[differentiable(cell = Memory)]
pub fn memory_step<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    c_prev: ArrayView2<T>,
    w: ArrayView2<T>,
) -> (Array2<T>, Array2<T>) {
    let n = h_prev.ncols();
    let gates = concatenate(Axis(1), &[&x, &h_prev]).dot(&w);
    let keep = sigmoid(gates.slice_axis(Axis(1), 0..n));
    let c = keep * &c_prev + tanh(gates.slice_axis(Axis(1), n..2 * n));
    let h = tanh(&c);
    (h, c)
}

/// The two-state cell's weight, `[inputs + hidden, 2 hidden]`.
pub struct Memory<T: Real> {
    w: Param<T, Ix2>,
}

fn gru(inputs: usize, hidden: usize, seed: u64) -> Recurrent<f64, Gru<f64>> {
    let mut rng = SeededRng::new(seed);
    let cell = Gru {
        wx: Param::new(init::normal((inputs, 3 * hidden), 0.5, &mut rng)),
        wh: Param::new(init::normal((hidden, 3 * hidden), 0.5, &mut rng)),
        b: Param::new(init::normal(3 * hidden, 0.5, &mut rng)),
    };
    let mut layer = Recurrent::new(cell, hidden);
    layer.initial[0].value = init::normal(hidden, 0.5, &mut rng);
    layer
}

/// Five-point differences of step 1e-4: the rounding error of a smaller step
/// exceeds 1e-7 on the weights' smallest gradients (1e-4) through six steps.
fn settings() -> GradCheck {
    GradCheck::default()
}

#[test]
fn a_generated_cell_runs_over_time_with_its_gradients_checked() {
    let mut layer = gru(3, 4, 0);
    let mut names = Vec::new();
    layer.visit_params(&mut |p| names.push(p.name.to_string()));
    assert_eq!(names, ["wx", "wh", "b", "h0"]);
    let x = init::normal::<f64, _>((5, 2, 3), 1.0, &mut SeededRng::new(1));
    check_layer(&mut layer, &x, &settings()).assert_passed();
    // One step of the layer is the generated step.
    let h0 = layer.initial[0].value.broadcast((2, 4)).unwrap().to_owned();
    let (hs, _) = layer.forward_train(&x);
    let (wx, wh, b) = (
        &layer.cell.wx.value,
        &layer.cell.wh.value,
        &layer.cell.b.value,
    );
    let h1 = gru_step(
        x.index_axis(Axis(0), 0),
        h0.view(),
        wx.view(),
        wh.view(),
        b.view(),
    );
    assert_eq!(hs.index_axis(Axis(0), 0), h1);
    // `recurrence = wh`: the monitors' matrix; the memory cell names none.
    assert_eq!(layer.recurrence_matrix(), Some(&layer.cell.wh.value));
}

#[test]
fn a_two_array_state_runs_from_a_per_sample_initial_state() {
    let mut rng = SeededRng::new(2);
    let mut cell = Memory {
        w: Param::new(init::normal((3 + 4, 8), 0.5, &mut rng)),
    };
    let x = init::normal::<f64, _>((6, 2, 3), 1.0, &mut rng);
    let state = (
        init::normal::<f64, _>((2, 4), 0.5, &mut rng),
        init::normal::<f64, _>((2, 4), 0.5, &mut rng),
    );
    let (hs, saved) = unroll(&cell, &x, state.clone());
    assert_eq!(hs.shape(), &[6, 2, 4]);
    let d_hs = Array3::<f64>::ones((6, 2, 4));
    let (d_x, (d_h0, d_c0)) = backprop_through_time(&mut cell, saved, &d_hs);
    assert_eq!(
        (d_x.shape(), d_h0.shape(), d_c0.shape()),
        (&[6, 2, 3][..], &[2, 4][..], &[2, 4][..])
    );
    // d_c0[0, 0] against a central difference of the loss sum(hs).
    let loss = |c0: &Array2<f64>| unroll(&cell, &x, (state.0.clone(), c0.clone())).0.sum();
    let eps = 1e-6;
    let (mut up, mut down) = (state.1.clone(), state.1.clone());
    up[[0, 0]] += eps;
    down[[0, 0]] -= eps;
    let numeric = (loss(&up) - loss(&down)) / (2.0 * eps);
    assert!(
        (numeric - d_c0[[0, 0]]).abs() < 1e-7 * numeric.abs().max(1.0),
        "{numeric} vs {}",
        d_c0[[0, 0]]
    );
    // And the whole layer, learned initial state and all, passes the check.
    let mut layer = Recurrent::new(cell, 4);
    layer.initial[1].value = init::normal(4, 0.5, &mut rng);
    check_layer(&mut layer, &x, &settings()).assert_passed();
    assert_eq!(layer.recurrence_matrix(), None);
}
