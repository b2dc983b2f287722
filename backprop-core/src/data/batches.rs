//! Minibatches of row indices, and gathering the rows they name.

use ndarray::{Array, ArrayRef, Axis, RemoveAxis};

use crate::SeededRng;

/// What to do with the last batch when the batch size does not divide the
/// number of examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastBatch {
    /// Yield it, smaller than the others: every example is seen each epoch.
    Keep,
    /// Skip it: every batch has exactly the batch size.
    Drop,
}

/// An iterator over the batches of one epoch, each a `Vec` of row indices.
/// Every index in `0..len` appears in at most one batch (in exactly one with
/// [`LastBatch::Keep`]).
///
/// ```
/// use backprop_core::data::{LastBatch, Minibatches};
/// use backprop_core::SeededRng;
///
/// let mut rng = SeededRng::new(1);
/// for epoch in 0..2 {
///     // A new order each epoch, drawn from the one generator.
///     let batches: Vec<Vec<usize>> = Minibatches::shuffled(10, 4, LastBatch::Keep, &mut rng).collect();
///     assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Minibatches {
    order: Vec<usize>,
    batch_size: usize,
    last_batch: LastBatch,
    next_start: usize,
}

impl Minibatches {
    /// Batches of `0..len` in an order shuffled by `rng`; the shuffle happens
    /// here, so the iterator does not hold on to `rng`.
    ///
    /// # Panics
    /// If `batch_size == 0`.
    pub fn shuffled(
        len: usize,
        batch_size: usize,
        last_batch: LastBatch,
        rng: &mut SeededRng,
    ) -> Self {
        let mut batches = Minibatches::in_order(len, batch_size, last_batch);
        rng.shuffle(&mut batches.order);
        batches
    }

    /// Batches of `0..len` in increasing order, for evaluation.
    ///
    /// # Panics
    /// If `batch_size == 0`.
    pub fn in_order(len: usize, batch_size: usize, last_batch: LastBatch) -> Self {
        assert!(batch_size > 0, "batch_size must be positive");
        Minibatches {
            order: (0..len).collect(),
            batch_size,
            last_batch,
            next_start: 0,
        }
    }
}

impl Iterator for Minibatches {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let remaining = self.order.len() - self.next_start;
        let size = match self.last_batch {
            LastBatch::Drop if remaining < self.batch_size => return None,
            _ if remaining == 0 => return None,
            _ => remaining.min(self.batch_size),
        };
        let batch = self.order[self.next_start..self.next_start + size].to_vec();
        self.next_start += size;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.order.len() - self.next_start;
        let batches = match self.last_batch {
            LastBatch::Keep => remaining.div_ceil(self.batch_size),
            LastBatch::Drop => remaining / self.batch_size,
        };
        (batches, Some(batches))
    }
}

impl ExactSizeIterator for Minibatches {}

/// The entries of `array` at `indices` along its first axis (rows of features,
/// entries of labels, images of an `[n, c, h, w]` array), in that order.
///
/// # Panics
/// If an index is out of bounds.
pub fn gather_rows<A: Clone, D: RemoveAxis>(
    array: &ArrayRef<A, D>,
    indices: &[usize],
) -> Array<A, D> {
    array.select(Axis(0), indices)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array4, array};

    use super::*;

    fn sizes(batches: Minibatches) -> Vec<usize> {
        batches.map(|batch| batch.len()).collect()
    }

    #[test]
    fn keep_and_drop_the_last_partial_batch() {
        assert_eq!(
            sizes(Minibatches::in_order(10, 3, LastBatch::Keep)),
            [3, 3, 3, 1]
        );
        assert_eq!(
            sizes(Minibatches::in_order(10, 3, LastBatch::Drop)),
            [3, 3, 3]
        );
        assert_eq!(
            sizes(Minibatches::in_order(9, 3, LastBatch::Keep)),
            [3, 3, 3]
        );
        assert_eq!(sizes(Minibatches::in_order(2, 5, LastBatch::Drop)), [0; 0]);
        assert_eq!(sizes(Minibatches::in_order(0, 5, LastBatch::Keep)), [0; 0]);
        assert_eq!(Minibatches::in_order(10, 3, LastBatch::Keep).len(), 4);
        assert_eq!(Minibatches::in_order(10, 3, LastBatch::Drop).len(), 3);
    }

    #[test]
    fn shuffled_batches_cover_every_index_once() {
        let mut rng = SeededRng::new(4);
        let batches: Vec<Vec<usize>> =
            Minibatches::shuffled(103, 10, LastBatch::Keep, &mut rng).collect();
        let mut seen: Vec<usize> = batches.concat();
        assert_ne!(seen, (0..103).collect::<Vec<_>>(), "shuffled");
        seen.sort_unstable();
        assert_eq!(seen, (0..103).collect::<Vec<_>>());
    }

    #[test]
    fn shuffle_is_reproducible_and_changes_per_epoch() {
        let epoch = |rng: &mut SeededRng| -> Vec<Vec<usize>> {
            Minibatches::shuffled(50, 8, LastBatch::Drop, rng).collect()
        };
        let (mut a, mut b) = (SeededRng::new(9), SeededRng::new(9));
        let first = epoch(&mut a);
        assert_eq!(first, epoch(&mut b));
        assert_ne!(first, epoch(&mut a), "the next epoch has a new order");
        assert_ne!(first, epoch(&mut SeededRng::new(10)));
    }

    #[test]
    fn gather_rows_of_any_rank() {
        let features = array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]];
        assert_eq!(
            gather_rows(&features, &[2, 0]),
            array![[4.0, 5.0], [0.0, 1.0]]
        );
        assert_eq!(gather_rows(&array![7usize, 8, 9], &[1, 1]), array![8, 8]);
        let images = Array4::from_shape_fn((3, 1, 2, 2), |(n, _, i, j)| (n * 4 + i * 2 + j) as f32);
        let picked = gather_rows(&images, &[1]);
        assert_eq!(picked.shape(), [1, 1, 2, 2]);
        assert_eq!(picked[[0, 0, 1, 1]], 7.0);
    }
}
