use backprop::prelude::*;

/// Multiclass SVM hinge loss with margin 1 (CS231n).
#[differentiable]
pub fn svm_hinge<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    let correct = pick(scores, &labels).insert_axis(Axis(1));
    // Summing over all classes counts the correct one as max(0, 1) = 1: subtract it.
    let margins = relu(scores - &correct + 1.0);
    (margins.sum_axis(Axis(1)) - 1.0).mean()
}
