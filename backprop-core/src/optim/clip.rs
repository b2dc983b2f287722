//! Gradient clipping.

use crate::{Parameters, Real};

/// Scales all gradients together so that their global L2 norm (over every
/// parameter) is at most `max_norm`, and returns the norm before clipping.
///
/// Gradients whose norm is at most `max_norm` (a zero norm included) are left
/// unchanged. If the norm is NaN or infinite it is returned and the gradients are
/// left alone, so the caller can detect the blow-up and skip the step. The norm is
/// summed in `f64`, which overflows only for gradients beyond about 1e154.
///
/// # Panics
/// If `max_norm` is negative or NaN.
pub fn clip_grad_norm<T: Real>(params: &mut dyn Parameters<T>, max_norm: f64) -> f64 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: max_norm must be non-negative, got {max_norm}"
    );
    let mut sum_of_squares = 0.0;
    params.visit_params(&mut |p| {
        sum_of_squares += p.grad.iter().map(|g| g.to_f64_lossy().powi(2)).sum::<f64>();
    });
    let norm = sum_of_squares.sqrt();
    if norm.is_finite() && norm > max_norm {
        let scale = T::lit(max_norm / norm);
        params.visit_params(&mut |mut p| p.grad *= scale);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{TwoParams, assert_close};

    #[test]
    fn clips_by_the_global_norm() {
        let mut model = TwoParams::new([0.0; 3]);
        // The 3-4-5 triangle across two parameters: √(3² + 0² + 4²) = 5.
        model.set_grads([3.0, 0.0, 4.0]);
        assert_eq!(clip_grad_norm(&mut model, 10.0), 5.0);
        assert_eq!(model.grads(), [3.0, 0.0, 4.0]);
        assert_eq!(clip_grad_norm(&mut model, 5.0), 5.0);
        assert_eq!(model.grads(), [3.0, 0.0, 4.0]);
        // Scaled by 2.5 / 5 = 0.5.
        assert_eq!(clip_grad_norm(&mut model, 2.5), 5.0);
        assert_close(model.grads(), [1.5, 0.0, 2.0]);
        assert!((clip_grad_norm(&mut model, 2.5) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn zero_gradients_stay_zero() {
        let mut model = TwoParams::new([1.0; 3]);
        assert_eq!(clip_grad_norm(&mut model, 1.0), 0.0);
        assert_eq!(clip_grad_norm(&mut model, 0.0), 0.0);
        assert_eq!(model.grads(), [0.0; 3]);
    }

    #[test]
    fn non_finite_norms_are_returned_and_gradients_left_alone() {
        let mut model = TwoParams::new([0.0; 3]);
        model.set_grads([3.0, f64::NAN, 4.0]);
        assert!(clip_grad_norm(&mut model, 1.0).is_nan());
        assert_eq!(model.grads()[0], 3.0);
        model.set_grads([3.0, f64::INFINITY, 4.0]);
        assert_eq!(clip_grad_norm(&mut model, 1.0), f64::INFINITY);
        assert_eq!(model.grads()[2], 4.0);
    }

    #[test]
    #[should_panic(expected = "max_norm must be non-negative")]
    fn negative_max_norm_panics() {
        clip_grad_norm(&mut TwoParams::new([0.0; 3]), -1.0);
    }
}
