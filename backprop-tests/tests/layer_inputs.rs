//! Layers of several inputs (`layer = S, input = (x, h)`): the layer takes the
//! tuple of its leading inputs, gives a gradient for each (or `()` for ids),
//! and goes through `check_layer` like any layer.

use backprop::prelude::*;
use backprop::{GradCheck, Layer, SeededRng, check_layer, init};
use ndarray::{Array1, Array2, array};

/// `(x, h) -> tanh(x w + h u + b)`: one step of a recurrence as a layer.
pub struct Mix<T: Real> {
    /// Input weights.
    pub w: Param<T, Ix2>,
    /// Recurrent weights.
    pub u: Param<T, Ix2>,
    /// Bias.
    pub b: Param<T, Ix1>,
}

#[differentiable(layer = Mix, input = (x, h))]
pub fn mix<T: Real>(
    x: ArrayView2<T>,
    h: ArrayView2<T>,
    w: ArrayView2<T>,
    u: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    tanh(x.dot(&w) + h.dot(&u) + &b)
}

/// An LSTM step `(x, h, c) -> (h, c)` as a layer of three inputs and two outputs.
pub struct LstmStep<T: Real> {
    /// Input weights of the four gates.
    pub wx: Param<T, Ix2>,
    /// Recurrent weights of the four gates.
    pub wh: Param<T, Ix2>,
}

#[differentiable(layer = LstmStep, input = (x, h_prev, c_prev))]
pub fn lstm_step<T: Real>(
    x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    c_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
) -> (Array2<T>, Array2<T>) {
    let n = h_prev.len_of(Axis(1));
    let gates = x.dot(&wx) + h_prev.dot(&wh);
    let i = sigmoid(gates.slice_axis(Axis(1), 0..n));
    let f = sigmoid(gates.slice_axis(Axis(1), n..2 * n));
    let o = sigmoid(gates.slice_axis(Axis(1), 2 * n..3 * n));
    let g = tanh(gates.slice_axis(Axis(1), 3 * n..4 * n));
    let c = f * &c_prev + i * g;
    (o * tanh(&c), c)
}

/// Scores `x w`, then the score of each row's class: floats and ids in.
pub struct Picked<T: Real> {
    /// The weights.
    pub w: Param<T, Ix2>,
}

#[differentiable(layer = Picked, input = (x, classes))]
pub fn picked<T: Real>(
    x: ArrayView2<T>,
    classes: ArrayView1<usize>,
    w: ArrayView2<T>,
) -> Array1<T> {
    pick(x.dot(&w), &classes)
}

fn normal(shape: (usize, usize), rng: &mut SeededRng) -> Array2<f64> {
    init::normal(shape, 0.5, rng)
}

#[test]
fn a_layer_of_two_inputs_passes_the_gradient_check() {
    let mut rng = SeededRng::new(1);
    let mut layer = Mix {
        w: Param::new(normal((3, 4), &mut rng)),
        u: Param::new(normal((4, 4), &mut rng)),
        b: Param::new(Array1::from_elem(4, 0.1)),
    };
    let input = (normal((2, 3), &mut rng), normal((2, 4), &mut rng));
    let report = check_layer(&mut layer, &input, &GradCheck::default());
    report.assert_passed();
    // Both inputs were checked, and all three parameters.
    assert_eq!(report.to_string().matches("input ").count(), 2, "{report}");
    // The layer's backward gives the function's gradients, as a tuple.
    let (y, saved) = layer.forward_train(&input);
    let d_out = Array2::ones(y.raw_dim());
    let (d_x, d_h) = layer.backward(saved, &d_out);
    let (_, fsaved) = mix_train(
        input.0.view(),
        input.1.view(),
        layer.w.value.view(),
        layer.u.value.view(),
        layer.b.value.view(),
    );
    let g = mix_backward(&fsaved, d_out.view());
    assert_eq!((d_x, d_h), (g.x, g.h));
}

#[test]
fn a_layer_of_three_inputs_and_two_outputs_passes_the_gradient_check() {
    let mut rng = SeededRng::new(2);
    let mut layer = LstmStep {
        wx: Param::new(normal((3, 8), &mut rng)),
        wh: Param::new(normal((2, 8), &mut rng)),
    };
    let input = (
        normal((4, 3), &mut rng),
        normal((4, 2), &mut rng),
        normal((4, 2), &mut rng),
    );
    check_layer(&mut layer, &input, &GradCheck::default()).assert_passed();
}

#[test]
fn ids_among_the_inputs_take_no_gradient() {
    let mut rng = SeededRng::new(3);
    let mut layer = Picked {
        w: Param::new(normal((3, 4), &mut rng)),
    };
    let input = (normal((3, 3), &mut rng), array![0usize, 3, 1]);
    check_layer(&mut layer, &input, &GradCheck::default()).assert_passed();
    let (y, saved) = layer.forward_train(&input);
    let (d_x, ()) = layer.backward(saved, &Array1::ones(y.raw_dim()));
    assert_eq!(d_x.shape(), &[3, 3]);
}

#[test]
fn an_embedding_passes_the_gradient_check_with_its_ids_held_fixed() {
    let mut layer = backprop::layers::Embedding::<f64>::new(5, 3, &mut SeededRng::new(4));
    check_layer(&mut layer, &array![4usize, 0, 4, 2], &GradCheck::default()).assert_passed();
}
