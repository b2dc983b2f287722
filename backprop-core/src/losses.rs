//! Losses, written with `#[differentiable]`. Each takes a batch and returns a scalar,
//! the mean over the batch; the generated `_train` and `_backward` give its gradient:
//!
//! ```
//! use backprop_core::losses::{softmax_cross_entropy_backward, softmax_cross_entropy_train};
//! use ndarray::array;
//!
//! let scores = array![[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]];
//! let labels = array![0usize, 2];
//! let (loss, saved) = softmax_cross_entropy_train(scores.view(), labels.view());
//! let d_scores = softmax_cross_entropy_backward(&saved, 1.0).scores;
//! assert!(loss > 0.0 && d_scores.shape() == [2, 3]);
//! ```

use backprop_macros::differentiable;
use ndarray::{Array1, ArrayRef1, ArrayRef2, ArrayView1, ArrayView2};

use crate::Real;

/// Softmax cross-entropy with integer labels, `L = -mean_i log softmax(scores_i)[labels_i]`,
/// for `scores` of shape `[batch, classes]` and `labels` of shape `[batch]`.
/// Computed as `log_softmax` then `pick`, so large scores do not overflow.
#[differentiable(check(scores = [4, 3], labels = [4] < 3))]
pub fn softmax_cross_entropy<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    let log_p = log_softmax(scores, Axis(1));
    -pick(log_p, &labels).mean()
}

/// The multiclass SVM hinge loss (Weston and Watkins; as in CS231n) with margin 1:
/// `L = mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1)`, for `scores` `[batch, classes]`.
///
/// The sum runs over all classes, then the term of the correct class,
/// `max(0, s_iy_i - s_iy_i + 1) = 1`, is subtracted; its gradient is zero, as the
/// two paths through `s_iy_i` cancel. The classes are laid along axis 0 of the
/// transpose so that the correct scores (`[batch]`) broadcast along them.
#[differentiable(check(scores = [4, 3], labels = [4] < 3))]
pub fn multiclass_hinge<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    let correct = pick(scores, &labels);
    let margins = relu(scores.t() - &correct + 1.0);
    margins.sum_axis(Axis(0)).mean() - 1.0
}

/// Mean squared error, `L = mean((pred - target)^2)` over every element.
#[differentiable(check(pred = [4, 3], target = [4, 3]))]
pub fn mse<T: Real>(pred: ArrayView2<T>, #[no_grad] target: ArrayView2<T>) -> T {
    square(pred - &target).mean()
}

/// The Huber loss, `L = mean(huber(pred - target, delta))` over every element, where
/// `huber(e, delta)` is `e^2 / 2` for `|e| <= delta` and `delta (|e| - delta / 2)`
/// beyond: quadratic near zero, linear (robust to outliers) far from it.
#[differentiable(check(pred = [4, 3], target = [4, 3], delta = 1.0))]
pub fn huber_loss<T: Real>(
    pred: ArrayView2<T>,
    #[no_grad] target: ArrayView2<T>,
    #[no_grad] delta: T,
) -> T {
    huber(pred - &target, delta).mean()
}

/// The class with the highest score in each row (the first one on ties).
pub fn predicted_classes<T: Real>(scores: &ArrayRef2<T>) -> Array1<usize> {
    scores
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (j, &s) in row.iter().enumerate() {
                if s > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// The fraction of rows of `scores` whose highest score is at the row's label
/// (NaN for an empty batch).
///
/// # Panics
/// If there is not one label per row.
pub fn accuracy<T: Real>(scores: &ArrayRef2<T>, labels: &ArrayRef1<usize>) -> f64 {
    assert_eq!(
        scores.nrows(),
        labels.len(),
        "accuracy needs one label per row: scores {:?}, labels {:?}",
        scores.shape(),
        labels.shape()
    );
    let predicted = predicted_classes(scores);
    let correct = predicted.iter().zip(labels).filter(|(p, y)| p == y).count();
    correct as f64 / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_function;
    use crate::function::{DynFunction, DynValue};
    use crate::test_util::{random, settings};
    use ndarray::array;

    fn float(a: ndarray::Array2<f64>) -> DynValue<f64> {
        DynValue::Float(a.into_dyn())
    }

    fn labels() -> DynValue<f64> {
        DynValue::Int(array![2usize, 0, 1, 2].into_dyn())
    }

    fn check(f: DynFunction<f64>, inputs: &[DynValue<f64>]) {
        check_function(&f, inputs, &settings()).assert_passed();
    }

    #[test]
    fn losses_pass_the_gradient_check() {
        let scores = random((4, 3), 1);
        check(
            softmax_cross_entropy_dyn(),
            &[float(scores.clone()), labels()],
        );
        // Margins s_j - s_y + 1 of these scores are all at least 1e-2 away from the kink at 0.
        check(multiclass_hinge_dyn(), &[float(scores.clone()), labels()]);
        let target = random((4, 3), 2);
        check(mse_dyn(), &[float(scores.clone()), float(target.clone())]);
        // Errors on both sides of delta = 0.5 (none within 1e-2 of it).
        let delta = DynValue::Float(ndarray::arr0(0.5).into_dyn());
        check(huber_loss_dyn(), &[float(scores), float(target), delta]);
    }

    #[test]
    fn checked_inputs_are_away_from_the_kinks() {
        let scores = random((4, 3), 1);
        let y = [2, 0, 1, 2];
        for (i, row) in scores.rows().into_iter().enumerate() {
            for (j, &s) in row.iter().enumerate() {
                let margin: f64 = s - row[y[i]] + 1.0;
                assert!(j == y[i] || margin.abs() > 1e-2, "margin {margin}");
            }
        }
        let errors = random((4, 3), 1) - random((4, 3), 2);
        assert!(errors.iter().all(|e| (e.abs() - 0.5).abs() > 1e-2));
        assert!(errors.iter().any(|e| e.abs() < 0.5) && errors.iter().any(|e| e.abs() > 0.5));
    }

    #[test]
    fn losses_compute_their_formulas() {
        // Equal scores: the cross-entropy is ln(classes).
        let ce = softmax_cross_entropy(
            ndarray::Array2::<f64>::zeros((2, 4)).view(),
            array![1, 3].view(),
        );
        assert!((ce - 4f64.ln()).abs() < 1e-12);
        // The CS231n example: the cat scores 3.2, car 5.1, frog -1.7, label cat.
        let hinge: f64 = multiclass_hinge(array![[3.2, 5.1, -1.7]].view(), array![0].view());
        assert!((hinge - 2.9).abs() < 1e-12);
        let m: f64 = mse(array![[1.0, 2.0]].view(), array![[0.0, 0.0]].view());
        assert!((m - 2.5).abs() < 1e-12);
        let h: f64 = huber_loss(array![[0.5, 3.0]].view(), array![[0.0, 0.0]].view(), 1.0);
        assert!((h - (0.125 + 2.5) / 2.0).abs() < 1e-12);
        // f32 works the same.
        let ce32 = softmax_cross_entropy(array![[1000.0f32, 0.0]].view(), array![0].view());
        assert_eq!(ce32, 0.0);
    }

    #[test]
    fn accuracy_counts_rows_whose_top_score_is_the_label() {
        let scores = array![[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]];
        assert_eq!(predicted_classes(&scores), array![1, 0, 0]);
        assert_eq!(accuracy(&scores, &array![1, 1, 0]), 2.0 / 3.0);
    }
}
