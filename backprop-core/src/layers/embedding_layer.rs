//! Embedding lookup.

use backprop_macros::differentiable;
use ndarray::{Array2, ArrayView1, ArrayView2, Ix2};

use crate::{Param, Real, SeededRng, init};

/// An embedding table: `y[i] = table[ids[i]]`, rows of `table` (`[vocabulary, dim]`)
/// picked by integer ids (`[batch]`), giving `[batch, dim]`.
///
/// Its input is integers, so it has no input gradient (`InputGrad = ()`); repeated
/// ids accumulate their gradients into the same row.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding<T: Real> {
    /// The table, `[vocabulary, dim]`.
    pub table: Param<T, Ix2>,
}

impl<T: Real> Embedding<T> {
    /// A table of `vocabulary` rows of `dim` standard normal values.
    pub fn new(vocabulary: usize, dim: usize, rng: &mut SeededRng) -> Self {
        Embedding {
            table: Param::new(init::normal((vocabulary, dim), 1.0, rng)),
        }
    }
}

/// `y[i] = table[ids[i]]`: the backward scatter-adds each row of the gradient into
/// the row of the table it came from.
#[differentiable(layer = Embedding, check(ids = [5] < 4, table = [4, 3]))]
pub fn embedding<T: Real>(ids: ArrayView1<usize>, table: ArrayView2<T>) -> Array2<T> {
    rows(table, &ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::random;
    use crate::{Layer, Parameters};
    use ndarray::{Array1, array};

    #[test]
    fn embedding_gradient_is_the_upstream_gradient_summed_per_id() {
        // `check_layer` needs a float input; the lookup is linear in the table, so its
        // gradient is known exactly: d table[j] = sum of d_out[i] over the i with ids[i] = j.
        let mut layer = Embedding::new(4, 3, &mut SeededRng::new(0));
        let ids = array![2usize, 0, 2, 3];
        let (y, saved) = layer.forward_train(&ids);
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(y.row(i), layer.table.value.row(id));
        }
        let d_out = random((4, 3), 1);
        layer.backward(saved, &d_out);
        for j in 0..4 {
            let mut expected = Array1::<f64>::zeros(3);
            for (i, _) in ids.iter().enumerate().filter(|&(_, &id)| id == j) {
                expected += &d_out.row(i);
            }
            assert_eq!(layer.table.grad.row(j), expected);
        }
    }

    #[test]
    fn embedding_layer_looks_up_rows_and_accumulates_repeats() {
        let mut layer = Embedding {
            table: Param::new(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        };
        let ids = array![2usize, 0, 2];
        let (y, saved) = layer.forward_train(&ids);
        assert_eq!(y, array![[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]]);
        layer.backward(saved, &Array2::ones((3, 2)));
        assert_eq!(layer.table.grad, array![[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]);
        assert_eq!(layer.num_params(), 6);
        let mut rng = SeededRng::new(0);
        assert_eq!(
            Embedding::<f32>::new(10, 4, &mut rng).table.value.shape(),
            &[10, 4]
        );
    }
}
