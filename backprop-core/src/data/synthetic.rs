//! Synthetic tasks generated from a seed: spirals for classifiers and the adding
//! problem for recurrent networks.

use ndarray::{Array1, Array2, Array3};

use super::Dataset;
use crate::{Real, SeededRng};

/// The spiral data set of Stanford's CS231n notes: `classes` interleaved spiral
/// arms with `points_per_class` points each, not linearly separable.
///
/// Arm `k` has radii evenly spaced over `[0, 1]` and angles evenly spaced over
/// `[4k, 4(k + 1)]` radians, each angle plus `noise` times a standard normal
/// sample (CS231n uses `noise = 0.2`). A point is `(r sin t, r cos t)`.
///
/// Features have shape `[points_per_class * classes, 2]`, labels are the arm
/// index `0..classes`, ordered arm by arm. The same seed gives the same points.
pub fn spiral<T: Real>(
    points_per_class: usize,
    classes: usize,
    noise: f64,
    seed: u64,
) -> Dataset<T> {
    let mut rng = SeededRng::new(seed);
    let total = points_per_class * classes;
    let mut features = Array2::zeros((total, 2));
    let mut labels = Array1::zeros(total);
    // Like numpy's linspace: position i of n evenly spaced values on [0, 1].
    let fraction = |i: usize| {
        if points_per_class > 1 {
            i as f64 / (points_per_class - 1) as f64
        } else {
            0.0
        }
    };
    for class in 0..classes {
        for i in 0..points_per_class {
            let row = class * points_per_class + i;
            let radius = fraction(i);
            let angle = 4.0 * (class as f64 + fraction(i)) + noise * rng.normal();
            features[[row, 0]] = T::lit(radius * angle.sin());
            features[[row, 1]] = T::lit(radius * angle.cos());
            labels[row] = class;
        }
    }
    Dataset::new(features, labels)
}

/// A batch of the adding problem (Hochreiter and Schmidhuber, 1997).
#[derive(Clone, Debug, PartialEq)]
pub struct AddingProblem<T> {
    /// Shape `[seq_len, batch, 2]`, time first. Channel 0 is a uniform value in
    /// `[0, 1)`; channel 1 is a marker, 1 at exactly two time steps (one in the
    /// first half `0..seq_len / 2`, one in the second half) and 0 elsewhere.
    pub inputs: Array3<T>,
    /// Shape `[batch, 1]`: the sum of the two marked values, in `[0, 2)`.
    pub targets: Array2<T>,
}

/// A batch of `batch` sequences of the adding problem, `seq_len` steps each:
/// see [`AddingProblem`] for the layout. The same seed gives the same batch;
/// use a new seed (say, the step number) for each training batch.
///
/// A network must remember the two marked values across the sequence. The
/// trivial baseline, always predicting 1.0 (the mean target), has a mean squared
/// error of 1/6, about 0.167 (the variance of a sum of two uniform values); a
/// model that learned the task goes well below that.
///
/// # Panics
/// If `seq_len < 2` (each half needs a position).
pub fn adding_problem<T: Real>(batch: usize, seq_len: usize, seed: u64) -> AddingProblem<T> {
    assert!(
        seq_len >= 2,
        "the adding problem needs seq_len >= 2, got {seq_len}"
    );
    let mut rng = SeededRng::new(seed);
    let mut inputs = Array3::zeros((seq_len, batch, 2));
    let mut targets = Array2::zeros((batch, 1));
    let half = seq_len / 2;
    for sequence in 0..batch {
        for step in 0..seq_len {
            inputs[[step, sequence, 0]] = T::lit(rng.uniform());
        }
        let first = rng.below(half);
        let second = half + rng.below(seq_len - half);
        inputs[[first, sequence, 1]] = T::one();
        inputs[[second, sequence, 1]] = T::one();
        targets[[sequence, 0]] = inputs[[first, sequence, 0]] + inputs[[second, sequence, 0]];
    }
    AddingProblem { inputs, targets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiral_shapes_labels_and_range() {
        let data = spiral::<f64>(100, 3, 0.2, 0);
        assert_eq!(data.features.dim(), (300, 2));
        assert_eq!(data.num_classes(), 3);
        for class in 0..3 {
            assert_eq!(data.labels.iter().filter(|&&l| l == class).count(), 100);
        }
        for row in data.features.rows() {
            let radius = row[0].hypot(row[1]);
            assert!(radius <= 1.0 + 1e-12, "radius {radius}");
        }
        // The last point of each arm lies on the unit circle.
        let last = data.features.row(99);
        assert!((last[0].hypot(last[1]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn spiral_is_reproducible_and_seed_dependent() {
        assert_eq!(spiral::<f32>(50, 4, 0.2, 9), spiral::<f32>(50, 4, 0.2, 9));
        assert_ne!(spiral::<f32>(50, 4, 0.2, 9), spiral::<f32>(50, 4, 0.2, 10));
        // Without noise the seed does not matter.
        assert_eq!(spiral::<f64>(20, 2, 0.0, 1), spiral::<f64>(20, 2, 0.0, 2));
    }

    #[test]
    fn spiral_tiny_cases() {
        assert_eq!(
            spiral::<f64>(1, 2, 0.0, 0).features,
            Array2::<f64>::zeros((2, 2))
        );
        assert!(spiral::<f64>(0, 3, 0.2, 0).is_empty());
    }

    #[test]
    fn adding_problem_has_one_marker_per_half_and_the_right_target() {
        for seq_len in [2, 3, 10, 31] {
            let problem = adding_problem::<f64>(64, seq_len, 5);
            assert_eq!(problem.inputs.dim(), (seq_len, 64, 2));
            assert_eq!(problem.targets.dim(), (64, 1));
            let half = seq_len / 2;
            for sequence in 0..64 {
                let markers: Vec<usize> = (0..seq_len)
                    .filter(|&step| problem.inputs[[step, sequence, 1]] != 0.0)
                    .collect();
                assert_eq!(markers.len(), 2, "{markers:?}");
                assert!(markers[0] < half && markers[1] >= half, "{markers:?}");
                for step in 0..seq_len {
                    let marker = problem.inputs[[step, sequence, 1]];
                    assert!(marker == 0.0 || marker == 1.0);
                    assert!((0.0..1.0).contains(&problem.inputs[[step, sequence, 0]]));
                }
                let marked_sum: f64 = markers
                    .iter()
                    .map(|&step| problem.inputs[[step, sequence, 0]])
                    .sum();
                assert_eq!(problem.targets[[sequence, 0]], marked_sum);
            }
        }
    }

    #[test]
    fn adding_problem_is_reproducible_and_the_baseline_is_one_sixth() {
        assert_eq!(
            adding_problem::<f32>(8, 12, 3),
            adding_problem::<f32>(8, 12, 3)
        );
        assert_ne!(
            adding_problem::<f32>(8, 12, 3),
            adding_problem::<f32>(8, 12, 4)
        );
        let problem = adding_problem::<f64>(20_000, 10, 11);
        let baseline_mse = problem.targets.mapv(|t| (t - 1.0).powi(2)).mean().unwrap();
        assert!((baseline_mse - 1.0 / 6.0).abs() < 0.01, "{baseline_mse}");
    }

    #[test]
    #[should_panic(expected = "seq_len >= 2")]
    fn adding_problem_rejects_length_one() {
        adding_problem::<f64>(1, 1, 0);
    }
}
