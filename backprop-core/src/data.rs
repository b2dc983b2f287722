//! Data sets for the examples and tests: the UCI handwritten digits (embedded in
//! the crate), two synthetic tasks (spirals and the adding problem), a stratified
//! train/test split, normalization and shuffled minibatches.
//!
//! All randomness comes from [`SeededRng`](crate::SeededRng), so a seed fixes
//! every split, shuffle and generated sample on every platform.
//!
//! # Recommended recipe for the digits
//!
//! Scale the pixels onto `[0, 1]` by dividing by [`DIGITS_MAX_PIXEL`], then split.
//! This needs no statistics, so nothing can leak from the test part, and the
//! same features serve an MLP (as rows) and a CNN (through [`Dataset::to_images`]).
//! [`Split::standardized`] (zero mean, unit variance per pixel, with statistics
//! from the training part only) is there for experiments that want it.
//!
//! ```
//! use backprop_core::data::{digits, Minibatches, LastBatch, Split, DIGITS_MAX_PIXEL, DIGITS_SIDE};
//! use backprop_core::SeededRng;
//!
//! let data = digits::<f32>().divide_features(f32::from(DIGITS_MAX_PIXEL));
//! let Split { train, test } = data.split(0.2, 42);
//! assert_eq!(train.len() + test.len(), 1797);
//!
//! let mut rng = SeededRng::new(0);
//! for batch in Minibatches::shuffled(train.len(), 32, LastBatch::Keep, &mut rng) {
//!     let rows = train.subset(&batch);
//!     let images = rows.to_images(DIGITS_SIDE, DIGITS_SIDE); // [batch, 1, 8, 8]
//!     assert_eq!(images.shape()[1..], [1, 8, 8]);
//! }
//! ```

mod batches;
mod digits;
mod split;
mod synthetic;

pub use batches::{LastBatch, Minibatches, gather_rows};
pub use digits::{
    DIGITS_CLASSES, DIGITS_FEATURES, DIGITS_MAX_PIXEL, DIGITS_SIDE, DigitsError, digits,
    parse_digits_csv_gz,
};
pub use split::{Split, Standardizer, stratified_split};
pub use synthetic::{AddingProblem, adding_problem, spiral};

use ndarray::{Array1, Array2, Array4};

use crate::Real;

/// A labelled data set: one example per row of `features`, its class in `labels`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T> {
    /// The examples, shape `[n, num_features]`.
    pub features: Array2<T>,
    /// The class of each example, shape `[n]`.
    pub labels: Array1<usize>,
}

impl<T: Real> Dataset<T> {
    /// A data set from features and labels.
    ///
    /// # Panics
    /// If the number of rows of `features` differs from the number of labels.
    pub fn new(features: Array2<T>, labels: Array1<usize>) -> Self {
        assert_eq!(
            features.nrows(),
            labels.len(),
            "{} feature rows but {} labels",
            features.nrows(),
            labels.len()
        );
        Dataset { features, labels }
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of features per example.
    pub fn num_features(&self) -> usize {
        self.features.ncols()
    }

    /// The number of classes, taken as the largest label plus one (0 if empty).
    pub fn num_classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |&max| max + 1)
    }

    /// The examples at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If an index is out of bounds.
    pub fn subset(&self, indices: &[usize]) -> Dataset<T> {
        Dataset {
            features: gather_rows(&self.features, indices),
            labels: gather_rows(&self.labels, indices),
        }
    }

    /// This data set with every feature divided by `divisor`; for the digits,
    /// `divide_features(DIGITS_MAX_PIXEL)` maps the pixels onto `[0, 1]`.
    pub fn divide_features(mut self, divisor: T) -> Self {
        self.features /= divisor;
        self
    }

    /// A stratified split into a training and a test part: see [`stratified_split`].
    ///
    /// # Panics
    /// If `test_fraction` is not in `[0, 1]`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Split<Dataset<T>> {
        let Split { train, test } = stratified_split(&self.labels.to_vec(), test_fraction, seed);
        Split {
            train: self.subset(&train),
            test: self.subset(&test),
        }
    }

    /// The features as single-channel images, shape `[n, 1, height, width]`, each
    /// row read in row-major order (as the digits are stored).
    ///
    /// # Panics
    /// If `height * width` is not the number of features.
    pub fn to_images(&self, height: usize, width: usize) -> Array4<T> {
        assert_eq!(
            height * width,
            self.num_features(),
            "{height}x{width} images need {} features per row, found {}",
            height * width,
            self.num_features()
        );
        self.features
            .to_shape((self.len(), 1, height, width))
            .expect("n * height * width elements reshape to [n, 1, height, width]")
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn digits_as_images_keep_row_major_pixels() {
        let data = digits::<f32>();
        let images = data.to_images(DIGITS_SIDE, DIGITS_SIDE);
        assert_eq!(images.shape(), [1797, 1, 8, 8]);
        for (n, i, j) in [(0, 0, 2), (5, 3, 7), (1796, 7, 0)] {
            assert_eq!(images[[n, 0, i, j]], data.features[[n, i * 8 + j]]);
        }
    }

    #[test]
    fn divided_digits_lie_in_unit_interval() {
        let data = digits::<f64>().divide_features(f64::from(DIGITS_MAX_PIXEL));
        assert!(data.features.iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert!(data.features.iter().any(|&p| p == 1.0));
    }

    #[test]
    fn subset_gathers_features_and_labels_together() {
        let data = Dataset::new(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], array![0, 2, 1]);
        let picked = data.subset(&[2, 0]);
        assert_eq!(picked.features, array![[5.0, 6.0], [1.0, 2.0]]);
        assert_eq!(picked.labels, array![1, 0]);
        assert_eq!(
            (data.len(), data.num_features(), data.num_classes()),
            (3, 2, 3)
        );
    }

    #[test]
    #[should_panic(expected = "2 feature rows but 3 labels")]
    fn mismatched_lengths_panic() {
        Dataset::new(array![[1.0f32], [2.0]], array![0, 1, 2]);
    }
}
