//! A `#[differentiable]` body calling other `#[differentiable]` functions: the
//! callee's forward runs and its generated backward is chained into the
//! caller's. Every caller carries a gradient check (`check(..)`, f64, central
//! differences), and the tests below compare the chained gradients with the
//! same math written inline in one function.

use backprop::prelude::*;
use ndarray::{Array1, Array2, array};

/// Callees in a module of their own, called by path and imported by name.
mod cells {
    use backprop::prelude::*;

    /// `x w + b`.
    #[differentiable(check(x = [4, 3], w = [3, 5], b = [5]))]
    pub fn linear<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
        x.dot(&w) + &b
    }

    /// `tanh(x w + b)`, through `linear`: the second level.
    #[differentiable(check(x = [4, 3], w = [3, 5], b = [5]))]
    pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
        let z: Array2<T> = linear(x, w, b);
        tanh(z)
    }

    /// Two results from one product: a gate and a candidate.
    #[differentiable(check(x = [4, 3], w = [3, 2]))]
    pub fn gate_and_candidate<T: Real>(
        x: ArrayView2<T>,
        w: ArrayView2<T>,
    ) -> (Array2<T>, Array2<T>) {
        let z = x.dot(&w);
        (sigmoid(&z), tanh(&z))
    }

    /// A scalar result, with a `#[no_grad]` input and a scalar parameter.
    #[differentiable(check(pred = [4, 3], target = [4, 3], delta = 0.5))]
    pub fn smooth_l1<T: Real>(
        pred: ArrayView2<T>,
        #[no_grad] target: ArrayView2<T>,
        #[no_grad] delta: T,
    ) -> T {
        huber(pred - target, delta).mean() * delta
    }
}

use cells::{dense, gate_and_candidate};

/// Three levels (`deep` -> `dense` -> `linear`), `dense` used twice, and a
/// loss from another crate (`backprop::losses`), called by its path.
#[differentiable(check(x = [4, 3], w1 = [3, 5], b1 = [5], w2 = [5, 3], b2 = [3], labels = [4] < 3))]
fn deep<T: Real>(
    x: ArrayView2<T>,
    w1: ArrayView2<T>,
    b1: ArrayView1<T>,
    w2: ArrayView2<T>,
    b2: ArrayView1<T>,
    labels: ArrayView1<usize>,
) -> T {
    let h: Array2<T> = dense(x, w1, b1);
    let scores: Array2<T> = cells::dense(h, w2, b2);
    let loss: T = backprop::losses::softmax_cross_entropy(scores, labels);
    loss
}

/// The same function written inline, the reference for the chained backward.
#[differentiable]
fn deep_inline<T: Real>(
    x: ArrayView2<T>,
    w1: ArrayView2<T>,
    b1: ArrayView1<T>,
    w2: ArrayView2<T>,
    b2: ArrayView1<T>,
    labels: ArrayView1<usize>,
) -> T {
    let h = tanh(x.dot(&w1) + &b1);
    let scores = tanh(h.dot(&w2) + &b2);
    -pick(log_softmax(scores, Axis(1)), &labels).mean()
}

/// A tuple result destructured, one result used twice and one argument passed
/// to two calls; the callee is the final expression of a part of the output.
#[differentiable(check(x = [4, 3], w = [3, 2], v = [3, 2]))]
fn gated<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, v: ArrayView2<T>) -> (Array2<T>, Array2<T>) {
    let (g, c): (Array2<T>, Array2<T>) = gate_and_candidate(x, w);
    let (g2, _): (Array2<T>, Array2<T>) = gate_and_candidate(x, v);
    (&g * &c + &g, g2)
}

/// A call as the final expression, its result declared by the return type; a
/// scalar result used in arithmetic; a `#[no_grad]` argument of the callee
/// given a value that takes no gradient.
#[differentiable(check(pred = [4, 3], target = [4, 3]))]
fn scaled_smooth_l1<T: Real>(pred: ArrayView2<T>, #[no_grad] target: ArrayView2<T>) -> T {
    let l: T = cells::smooth_l1(pred, target, 0.5);
    let doubled = l * 2.0;
    doubled.sum()
}

/// A call whose one result is the function's output.
#[differentiable(check(x = [4, 3], w = [3, 5], b = [5]))]
fn dense_again<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    cells::dense(sigmoid(x), w, b)
}

/// A layer from the runtime crate, called inside a layer of one's own.
#[differentiable(check(x = [4, 3], w = [3, 5], b = [5]))]
fn affine_relu<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z: Array2<T> = backprop::layers::affine(x, w, b);
    relu(z)
}

/// The inputs of `deep`: `x`, `w1`, `b1`, `w2`, `b2` and the labels.
type DeepInputs = (
    Array2<f64>,
    Array2<f64>,
    Array1<f64>,
    Array2<f64>,
    Array1<f64>,
    Array1<usize>,
);

fn inputs() -> DeepInputs {
    let x = array![
        [0.5, -1.0, 0.3],
        [1.2, 0.1, -0.7],
        [-0.4, 0.8, 0.9],
        [0.0, -0.3, 0.6]
    ];
    let w1 = Array2::from_shape_fn((3, 5), |(i, j)| ((i * 5 + j) as f64 * 0.37).sin());
    let b1 = Array1::from_shape_fn(5, |j| 0.1 * j as f64 - 0.2);
    let w2 = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 3 + j) as f64 * 0.53).cos());
    let b2 = array![0.05, -0.1, 0.2];
    let labels = array![0usize, 2, 1, 2];
    (x, w1, b1, w2, b2, labels)
}

#[test]
fn chained_backward_equals_the_inline_function() {
    let (x, w1, b1, w2, b2, labels) = inputs();
    let args = (
        x.view(),
        w1.view(),
        b1.view(),
        w2.view(),
        b2.view(),
        labels.view(),
    );
    let (loss, saved) = deep_train(args.0, args.1, args.2, args.3, args.4, args.5);
    let (loss_inline, saved_inline) =
        deep_inline_train(args.0, args.1, args.2, args.3, args.4, args.5);
    assert!(
        (loss - loss_inline).abs() < 1e-14,
        "{loss} vs {loss_inline}"
    );
    assert_eq!(deep(args.0, args.1, args.2, args.3, args.4, args.5), loss);
    let g = deep_backward(&saved, 1.5);
    let r = deep_inline_backward(&saved_inline, 1.5);
    for (name, a, b) in [
        ("x", &g.x, &r.x),
        ("w1", &g.w1, &r.w1),
        ("w2", &g.w2, &r.w2),
    ] {
        let diff = (a - b).mapv(f64::abs).fold(0.0f64, |m, &v| m.max(v));
        assert!(diff < 1e-13, "{name}: chained and inline differ by {diff}");
    }
    for (name, a, b) in [("b1", &g.b1, &r.b1), ("b2", &g.b2, &r.b2)] {
        let diff = (a - b).mapv(f64::abs).fold(0.0f64, |m, &v| m.max(v));
        assert!(diff < 1e-13, "{name}: chained and inline differ by {diff}");
    }
}

#[test]
fn a_result_no_output_uses_gets_a_zero_upstream_gradient() {
    let (x, w1, ..) = inputs();
    let w = Array2::from_shape_fn((3, 2), |(i, j)| w1[[i, j]]);
    let v = Array2::from_shape_fn((3, 2), |(i, j)| w1[[i, j + 2]]);
    let ((a, b), saved) = gated_train(x.view(), w.view(), v.view());
    let d_a = Array2::from_elem(a.raw_dim(), 1.0);
    let d_b = Array2::zeros(b.raw_dim());
    let grads = gated_backward(&saved, (d_a.view(), d_b.view()));
    // With no gradient on the second output, `v` gets none: only `g2` reads
    // it, and the second result of its call is left unbound (`_`).

    assert!(grads.v.iter().all(|&g| g == 0.0));
    assert!(grads.w.iter().any(|&g| g != 0.0));
}

/// A function of `f32` only, called from another of `f32`.
#[differentiable]
fn tanh_dot32(x: ArrayView2<f32>, w: ArrayView2<f32>) -> Array2<f32> {
    tanh(x.dot(&w))
}

/// An `f32` caller of an `f32` callee and of a generic one.
#[differentiable]
fn loss32(x: ArrayView2<f32>, w: ArrayView2<f32>, b: ArrayView1<f32>) -> f32 {
    let h: Array2<f32> = tanh_dot32(x, w);
    let z: Array2<f32> = cells::linear(h, w, b);
    (&z * &z).sum()
}

/// [`loss32`] inline.
#[differentiable]
fn loss32_inline(x: ArrayView2<f32>, w: ArrayView2<f32>, b: ArrayView1<f32>) -> f32 {
    let z = tanh(x.dot(&w)).dot(&w) + &b;
    (&z * &z).sum()
}

#[test]
fn calls_between_functions_of_f32_equal_the_inline_function() {
    let x = array![[0.5f32, -1.0, 0.3], [1.2, 0.1, -0.7]];
    let w = Array2::from_shape_fn((3, 3), |(i, j)| ((i * 3 + j) as f32 * 0.41).sin());
    let b = array![0.1f32, -0.2, 0.3];
    let (l, saved) = loss32_train(x.view(), w.view(), b.view());
    let (l_inline, saved_inline) = loss32_inline_train(x.view(), w.view(), b.view());
    assert_eq!(l, l_inline);
    let (g, r) = (
        loss32_backward(&saved, 1.0),
        loss32_inline_backward(&saved_inline, 1.0),
    );
    for (a, b) in [(&g.x, &r.x), (&g.w, &r.w)] {
        let diff = (a - b).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
        assert!(diff < 1e-5, "chained and inline differ by {diff}");
    }
    assert!((&g.b - &r.b).iter().all(|d| d.abs() < 1e-5));
}

/// Nine results: more than any tuple trait of the runtime covers.
#[differentiable]
#[allow(clippy::type_complexity)]
fn nine<T: Real>(
    x: ArrayView1<T>,
) -> (
    Array1<T>,
    Array1<T>,
    Array1<T>,
    Array1<T>,
    Array1<T>,
    Array1<T>,
    Array1<T>,
    Array1<T>,
    Array1<T>,
) {
    (
        x * 1.0,
        x * 2.0,
        x * 3.0,
        x * 4.0,
        x * 5.0,
        x * 6.0,
        x * 7.0,
        x * 8.0,
        x * 9.0,
    )
}

/// The nine results of [`nine`], summed: each element's gradient is 45.
#[differentiable(check(x = [3]))]
#[allow(clippy::type_complexity)]
fn sum_of_nine<T: Real>(x: ArrayView1<T>) -> T {
    let (a, b, c, d, e, f, g, h, i): (
        Array1<T>,
        Array1<T>,
        Array1<T>,
        Array1<T>,
        Array1<T>,
        Array1<T>,
        Array1<T>,
        Array1<T>,
        Array1<T>,
    ) = nine(x);
    (a + b + c + d + e + f + g + h + i).sum()
}

#[test]
fn a_callee_of_nine_results_chains_all_of_them() {
    let x = array![1.0, -2.0, 0.5];
    let (l, saved) = sum_of_nine_train(x.view());
    assert_eq!(l, 45.0 * -0.5);
    assert_eq!(
        sum_of_nine_backward(&saved, 1.0).x,
        array![45.0, 45.0, 45.0]
    );
}
