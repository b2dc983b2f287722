//! Train/test splits and normalization with training statistics.

use ndarray::{Array1, Array2, ArrayRef2, Axis};

use super::Dataset;
use crate::{Real, SeededRng};

/// A training part and a test part: of a data set, or of its row indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Split<D> {
    /// The part to train (and fit any statistics) on.
    pub train: D,
    /// The held-out part, to evaluate on.
    pub test: D,
}

/// Splits the row indices `0..labels.len()` into a training and a test part,
/// each class in the same proportion: `round(count * test_fraction)` examples of
/// each class go to the test part, chosen at random with `seed`. Both parts are
/// sorted in increasing order, are disjoint, and together hold every index.
///
/// # Panics
/// If `test_fraction` is not in `[0, 1]`.
pub fn stratified_split(labels: &[usize], test_fraction: f64, seed: u64) -> Split<Vec<usize>> {
    assert!(
        (0.0..=1.0).contains(&test_fraction),
        "test_fraction must be in [0, 1], got {test_fraction}"
    );
    let num_classes = labels.iter().max().map_or(0, |&max| max + 1);
    let mut indices_by_class = vec![Vec::new(); num_classes];
    for (index, &label) in labels.iter().enumerate() {
        indices_by_class[label].push(index);
    }

    // One stream, classes in increasing order: the seed alone fixes the split.
    let mut rng = SeededRng::new(seed);
    let mut train = Vec::with_capacity(labels.len());
    let mut test = Vec::new();
    for mut class_indices in indices_by_class {
        rng.shuffle(&mut class_indices);
        let test_count = (class_indices.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&class_indices[..test_count]);
        train.extend_from_slice(&class_indices[test_count..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

impl<T: Real> Split<Dataset<T>> {
    /// Both parts standardized with the mean and standard deviation of the
    /// training part (see [`Standardizer`]); the test part contributes nothing
    /// to the statistics.
    ///
    /// # Panics
    /// If the training part is empty.
    pub fn standardized(self) -> Self {
        let standardizer = Standardizer::fit(&self.train.features);
        let standardize = |data: Dataset<T>| Dataset {
            features: standardizer.apply(&data.features),
            labels: data.labels,
        };
        Split {
            train: standardize(self.train),
            test: standardize(self.test),
        }
    }
}

/// Per-feature standardization, `(x - mean) / std`, with statistics fitted on
/// one array (the training features) and applied to any other.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<T> {
    /// The mean of each feature (column) of the fitted array.
    pub mean: Array1<T>,
    /// The population standard deviation of each feature, with 1 in place of
    /// (near) zero so that a constant feature maps to 0 instead of dividing by 0.
    pub std: Array1<T>,
}

impl<T: Real> Standardizer<T> {
    /// Fits the statistics of each column of `features` (`[n, num_features]`).
    ///
    /// # Panics
    /// If `features` has no rows.
    pub fn fit(features: &ArrayRef2<T>) -> Self {
        let mean = features
            .mean_axis(Axis(0))
            .expect("cannot fit a standardizer to zero rows");
        // Pixels that are always 0 in the training part (corners of the digits)
        // have no spread; leave their scale alone.
        let tiny = T::lit(1e-6);
        let std = features
            .std_axis(Axis(0), T::zero())
            .mapv(|s| if s > tiny { s } else { T::one() });
        Standardizer { mean, std }
    }

    /// `(features - mean) / std`, column by column.
    ///
    /// # Panics
    /// If `features` does not have as many columns as the fitted array.
    pub fn apply(&self, features: &ArrayRef2<T>) -> Array2<T> {
        assert_eq!(
            features.ncols(),
            self.mean.len(),
            "standardizer fitted to {} features, applied to {}",
            self.mean.len(),
            features.ncols()
        );
        let mut standardized = features.to_owned();
        standardized -= &self.mean;
        standardized /= &self.std;
        standardized
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::data::{DIGITS_CLASSES, digits};

    #[test]
    fn digits_split_is_disjoint_complete_and_stratified() {
        let data = digits::<f64>();
        let labels = data.labels.to_vec();
        let Split { train, test } = stratified_split(&labels, 0.2, 7);

        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..labels.len()).collect::<Vec<_>>(),
            "disjoint and complete"
        );

        for class in 0..DIGITS_CLASSES {
            let total = labels.iter().filter(|&&l| l == class).count();
            let in_test = test.iter().filter(|&&i| labels[i] == class).count();
            assert_eq!(
                in_test,
                (total as f64 * 0.2).round() as usize,
                "class {class}"
            );
        }
        assert!((355..=365).contains(&test.len()), "{}", test.len());

        let parts = data.split(0.2, 7);
        assert_eq!(parts.train.len(), train.len());
        assert_eq!(parts.test.len(), test.len());
        assert_eq!(parts.test.features.row(0), data.features.row(test[0]));
        assert_eq!(parts.test.labels[0], labels[test[0]]);
    }

    #[test]
    fn split_depends_on_the_seed_only() {
        let labels = digits::<f32>().labels.to_vec();
        assert_eq!(
            stratified_split(&labels, 0.25, 1),
            stratified_split(&labels, 0.25, 1)
        );
        assert_ne!(
            stratified_split(&labels, 0.25, 1).test,
            stratified_split(&labels, 0.25, 2).test
        );
    }

    #[test]
    fn extreme_fractions() {
        let labels = [0, 1, 1, 2, 2, 2];
        let none = stratified_split(&labels, 0.0, 3);
        assert_eq!((none.train.len(), none.test.len()), (6, 0));
        let all = stratified_split(&labels, 1.0, 3);
        assert_eq!((all.train.len(), all.test.len()), (0, 6));
    }

    #[test]
    #[should_panic(expected = "test_fraction")]
    fn fraction_above_one_panics() {
        stratified_split(&[0, 1], 1.5, 0);
    }

    #[test]
    fn standardization_uses_training_statistics_only() {
        // Column 0 varies, column 1 is constant in the training part.
        let train = Dataset::new(array![[1.0, 5.0], [3.0, 5.0]], array![0, 1]);
        let test = Dataset::new(array![[100.0, 7.0]], array![0]);
        let Split { train, test } = Split { train, test }.standardized();

        // Training mean is [2, 5], std [1, 1 (constant column)].
        assert_eq!(train.features, array![[-1.0, 0.0], [1.0, 0.0]]);
        assert_eq!(test.features, array![[98.0, 2.0]]);
        assert_eq!(test.labels, array![0]);
    }

    #[test]
    fn standardized_digits_have_zero_mean_unit_std_on_train() {
        let Split { train, test } = digits::<f64>().split(0.2, 0).standardized();
        let mean = train.features.mean_axis(Axis(0)).unwrap();
        let std = train.features.std_axis(Axis(0), 0.0);
        for (&m, &s) in mean.iter().zip(&std) {
            assert!(m.abs() < 1e-9, "mean {m}");
            // Constant pixels stay at 0 spread.
            assert!((s - 1.0).abs() < 1e-9 || s == 0.0, "std {s}");
        }
        // The test part is not re-centred on its own statistics.
        let test_mean = test.features.mean_axis(Axis(0)).unwrap();
        assert!(test_mean.iter().any(|m| m.abs() > 1e-3));
    }
}
