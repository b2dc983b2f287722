//! The non-finite guard through generated code: off, a NaN flows through as
//! before; on, the first non-finite value stops the call with its source.

use backprop::prelude::*;
use ndarray::array;

#[differentiable]
fn log_scaled<T: Real>(x: ArrayView1<T>, w: ArrayView1<T>) -> Array1<T> {
    let scaled = &x * &w;
    ln(scaled)
}

#[differentiable(allow(singular_at_zero))]
fn magnitude<T: Real>(w: ArrayView1<T>) -> T {
    sqrt(w.square()).sum()
}

/// Runs `f` with the guard on (on this thread) and returns its panic message.
fn stopped(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    backprop::ops::set_non_finite_guard(true);
    let err = std::panic::catch_unwind(f).expect_err("the guard must stop it");
    backprop::ops::set_non_finite_guard(false);
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn off_a_nan_flows_through_unchecked() {
    let (x, w): (Array1<f64>, Array1<f64>) = (array![1.0, -2.0], array![1.0, 1.0]);
    assert!(log_scaled(x.view(), w.view())[1].is_nan());
    let (_, saved) = magnitude_train(array![1.0f64, 0.0].view());
    assert!(magnitude_backward(&saved, 1.0).w[1].is_nan());
}

#[test]
fn on_the_forward_names_the_expression_and_its_line() {
    let (x, w): (Array1<f64>, Array1<f64>) = (array![1.0, -2.0], array![1.0, 1.0]);
    let msg = stopped(|| {
        log_scaled(x.view(), w.view());
    });
    assert!(
        msg.contains("`out` ([2]) has 1 NaN and 0 infinite of its 2 elements"),
        "{msg}"
    );
    // One loop computes `&x * &w` and `ln` of it: both are named, with their places.
    assert!(
        msg.contains(
            "computed in the forward by a fused loop of `&x * &w` (9:18), `ln(scaled)` (10:5)"
        ),
        "{msg}"
    );
    assert!(msg.contains("non_finite_guard.rs:10:5"), "{msg}");
    assert!(msg.contains("operand shapes: [2], [2]"), "{msg}");
}

#[test]
fn on_the_backward_names_the_derivative_and_the_forward_expression() {
    // sqrt(w^2) at w = 0 is finite; its derivative is 0 / 0.
    let (_, saved) = magnitude_train(array![1.0f64, 0.0].view());
    let msg = stopped(|| {
        magnitude_backward(&saved, 1.0);
    });
    assert!(msg.contains("has 1 NaN"), "{msg}");
    assert!(msg.contains("computed in the backward by"), "{msg}");
    assert!(msg.contains("`sqrt(w.square())` (15:5)"), "{msg}");
}

#[test]
fn on_a_non_finite_input_is_named_as_the_input() {
    let (x, w): (Array1<f64>, Array1<f64>) = (array![1.0, f64::INFINITY], array![1.0, 1.0]);
    let msg = stopped(|| {
        log_scaled(x.view(), w.view());
    });
    assert!(msg.contains("it is the input `x`"), "{msg}");
}
