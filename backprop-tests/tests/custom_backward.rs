//! A backward of the user's own, named in the attribute: `NAME_backward` calls
//! it, the derived one stays as `NAME_derived_backward`, and `check(..)`'s test
//! compares the two and checks finite differences, or, for a declared
//! `surrogate`, checks only shapes and finite values.

use backprop::prelude::*;
use backprop::{DynValue, GradCheck, check_against_derived, check_function};

/// The same math as the derived backward, written by hand.
#[differentiable(layer = Dense, backward = dense_by_hand, check(x = [4, 3], w = [3, 2], b = [2]))]
pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dot(&w) + &b
}

/// `dx = dout w^T`, `dw = x^T dout`, `db = sum_rows(dout)`.
pub fn dense_by_hand<T: Real>(saved: &DenseSaved<T>, d_out: ArrayView2<'_, T>) -> DenseGrads<T> {
    DenseGrads {
        x: d_out.dot(&saved.w.t()),
        w: saved.x.t().dot(&d_out),
        b: d_out.sum_axis(Axis(0)),
    }
}

/// A layer whose backward is the hand-written one.
pub struct Dense<T: Real> {
    w: Param<T, Ix2>,
    b: Param<T, Ix1>,
}

/// A straight-through estimator: the forward rounds to quarters, which has no
/// derivative (the compiler rejects `round` on a gradient path unless the
/// backward is a declared surrogate), and the backward passes the gradient on.
#[differentiable(backward = straight_through, surrogate, check(x = [4, 3]))]
pub fn quantize<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    round(x * 4.0) / 4.0
}

/// The identity, as if the rounding were not there.
pub fn straight_through<T: Real>(
    _: &QuantizeSaved<T>,
    d_out: ArrayView2<'_, T>,
) -> QuantizeGrads<T> {
    QuantizeGrads {
        x: d_out.to_owned(),
    }
}

/// A wrong backward (3 x where the derivative is 2 x), declared a surrogate so
/// that its generated test checks only shapes: the comparisons it skips fail.
#[differentiable(backward = three_x, surrogate, check(x = [4, 3]))]
pub fn square_it<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    x.square()
}

/// `3 x dout`: not the derivative of `x^2`. It reads `saved.x`, which a backward
/// of one's own always has (every input is saved).
pub fn three_x<T: Real>(saved: &SquareItSaved<T>, d_out: ArrayView2<'_, T>) -> SquareItGrads<T> {
    SquareItGrads {
        x: &saved.x * &d_out * T::lit(3.0),
    }
}

fn random(shape: &[usize], seed: u64) -> DynValue<f64> {
    let mut rng = backprop::SeededRng::new(seed);
    DynValue::Float(backprop::init::normal(
        backprop::ndarray::IxDyn(shape),
        1.0,
        &mut rng,
    ))
}

#[test]
fn the_backward_is_the_users_and_the_derived_one_stays() {
    let (x, w, b) = (
        backprop::init::normal::<f64, _>((4, 3), 1.0, &mut backprop::SeededRng::new(1)),
        backprop::init::normal::<f64, _>((3, 2), 1.0, &mut backprop::SeededRng::new(2)),
        backprop::init::normal::<f64, _>(2, 1.0, &mut backprop::SeededRng::new(3)),
    );
    let (_, saved) = dense_train(x.view(), w.view(), b.view());
    let d_out = backprop::ndarray::Array2::<f64>::ones((4, 2));
    let (own, derived) = (
        dense_backward(&saved, d_out.view()),
        dense_derived_backward(&saved, d_out.view()),
    );
    assert!((&own.w - &derived.w).iter().all(|d| d.abs() < 1e-12));
    // The layer's backward is the user's too.
    let mut layer = Dense {
        w: Param::new(w.clone()),
        b: Param::new(b.clone()),
    };
    let (_, saved) = layer.forward_train(&x);
    let d_x = layer.backward(saved, &d_out);
    assert!((&d_x - &own.x).iter().all(|d| d.abs() < 1e-12));
    assert!((&layer.w.grad - &own.w).iter().all(|d| d.abs() < 1e-12));
    // The straight-through estimator passes the gradient through the rounding.
    let (y, saved) = quantize_train(x.view());
    assert!(y.iter().all(|v| (v * 4.0).fract() == 0.0));
    assert_eq!(quantize_backward(&saved, d_out.view()).x, d_out);
    assert!(
        quantize_derived_backward(&saved, d_out.view())
            .x
            .iter()
            .all(|v| *v == 0.0)
    );
}

#[test]
fn a_wrong_backward_fails_both_comparisons_a_surrogate_skips() {
    let f = square_it_dyn::<f64>();
    let inputs = [random(&[4, 3], 5)];
    let against_differences = check_function(&f, &inputs, &GradCheck::default());
    assert!(!against_differences.passed(), "{against_differences}");
    let against_derived = check_against_derived(&f, &inputs, &GradCheck::default());
    assert!(!against_derived.passed(), "{against_derived}");
    // A ratio of 3/2 between the two everywhere: a relative error of 0.2.
    let worst = against_derived.worst().unwrap();
    assert!(
        (worst.max_rel_error - 0.2).abs() < 1e-12,
        "{against_derived}"
    );
    // The generated tests themselves: the surrogate's checks shapes only.
    square_it_gradient_check();
    quantize_gradient_check();
    dense_gradient_check();
}
