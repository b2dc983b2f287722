//! W5: the DQN loss, `Q[256, 18] = relu(s[256, 64] w1[64, 128] + b1) w2[128, 18] + b2`,
//! `q = Q[i, a_i]` for an integer action vector `a`, loss = `mean(huber(target - q, 1.0))`.
//! Gradients: `w1`, `b1`, `w2`, `b2` (not `s`; `target` is a constant).

use backprop::prelude::*;
use backprop::{Real, SeededRng};
use ndarray::{Array1, Array2, Zip};

use crate::{StepResult, Variant, indices, normal};

/// The sizes of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Transitions per batch.
    pub batch: usize,
    /// Features of a state.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Actions.
    pub actions: usize,
}

impl Sizes {
    /// The workload as specified: batch 256, 64 -> 128 -> 18.
    pub const FULL: Sizes = Sizes {
        batch: 256,
        inputs: 64,
        hidden: 128,
        actions: 18,
    };
    /// A small instance for tests.
    pub const SMALL: Sizes = Sizes {
        batch: 9,
        inputs: 6,
        hidden: 8,
        actions: 4,
    };

    /// The floating-point operations of the matrix products a step needs: the two
    /// forward products and `dw1` (the gradients of `w2` and `h` touch one column
    /// of `Q` per row and are counted as such).
    pub fn flops(self) -> f64 {
        let Sizes {
            batch: n,
            inputs: i,
            hidden: h,
            actions: a,
        } = self;
        (2 * n * i * h * 2 + 2 * n * h * a + 2 * n * h * 2) as f64
    }
}

/// The inputs of one step.
#[derive(Clone, Debug)]
pub struct Data<T> {
    /// `[batch, inputs]`, standard normal.
    pub s: Array2<T>,
    /// `[inputs, hidden]`, He-normal.
    pub w1: Array2<T>,
    /// `[hidden]`.
    pub b1: Array1<T>,
    /// `[hidden, actions]`, He-normal.
    pub w2: Array2<T>,
    /// `[actions]`.
    pub b2: Array1<T>,
    /// `[batch]`, in `0..actions`.
    pub actions: Array1<usize>,
    /// `[batch]`, normal with standard deviation 2 (so that both sides of the
    /// Huber loss are taken).
    pub target: Array1<T>,
}

impl<T: Real> Data<T> {
    /// Data of the given sizes drawn from `seed`.
    pub fn new(s: Sizes, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        Data {
            s: normal((s.batch, s.inputs), 1.0, &mut rng),
            w1: normal(
                (s.inputs, s.hidden),
                (2.0 / s.inputs as f64).sqrt(),
                &mut rng,
            ),
            b1: normal(s.hidden, 0.1, &mut rng),
            w2: normal(
                (s.hidden, s.actions),
                (2.0 / s.hidden as f64).sqrt(),
                &mut rng,
            ),
            b2: normal(s.actions, 0.1, &mut rng),
            actions: indices(s.batch, s.actions, &mut rng),
            target: normal(s.batch, 2.0, &mut rng),
        }
    }
}

/// The whole workload as a user writes it.
#[differentiable]
pub fn dqn_loss<T: Real>(
    #[no_grad] s: ArrayView2<T>,
    w1: ArrayView2<T>,
    b1: ArrayView1<T>,
    w2: ArrayView2<T>,
    b2: ArrayView1<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    let h = relu(s.dot(&w1) + &b1);
    let q = h.dot(&w2) + &b2;
    let q_taken = pick(q, &actions);
    huber(target - q_taken, 1.0).mean()
}

/// One step through the generated [`dqn_loss_train`] and [`dqn_loss_backward`].
pub fn generated<T: Real>(d: &Data<T>) -> StepResult<T> {
    let (loss, saved) = dqn_loss_train(
        d.s.view(),
        d.w1.view(),
        d.b1.view(),
        d.w2.view(),
        d.b2.view(),
        d.actions.view(),
        d.target.view(),
    );
    let g = dqn_loss_backward(&saved, T::one());
    StepResult {
        loss,
        grads: vec![
            ("w1", g.w1.into_dyn()),
            ("b1", g.b1.into_dyn()),
            ("w2", g.w2.into_dyn()),
            ("b2", g.b2.into_dyn()),
        ],
    }
}

/// One step written by hand: two products forward with the biases and ReLU fused
/// in place; the gradient of `Q` has one nonzero per row, so `dw2`, `db2` and `dh`
/// are scattered row by row instead of multiplied; one product for `dw1`.
pub fn hand<T: Real>(d: &Data<T>) -> StepResult<T> {
    let n = d.s.nrows();
    let inv_n = T::one() / T::from_usize(n).expect("batch size fits the float type");
    let mut h = d.s.dot(&d.w1);
    Zip::from(&mut h)
        .and_broadcast(&d.b1)
        .for_each(|h, &b| *h = (*h + b).max(T::zero()));
    let q = h.dot(&d.w2);

    let half = T::lit(0.5);
    let mut loss = T::zero();
    let mut d_w2 = Array2::<T>::zeros(d.w2.raw_dim());
    let mut d_b2 = Array1::<T>::zeros(d.b2.raw_dim());
    let mut d_h = Array2::<T>::zeros(h.raw_dim());
    for (i, &a) in d.actions.iter().enumerate() {
        let e = d.target[i] - (q[(i, a)] + d.b2[a]);
        let abs = e.abs();
        loss += if abs <= T::one() {
            half * e * e
        } else {
            abs - half
        };
        // d loss / d q_i = -huber'(e) / n.
        let g = -e.max(-T::one()).min(T::one()) * inv_n;
        d_b2[a] += g;
        let h_row = h.row(i);
        Zip::from(d_w2.column_mut(a))
            .and(&h_row)
            .for_each(|dw, &h| *dw += g * h);
        Zip::from(d_h.row_mut(i))
            .and(d.w2.column(a))
            .and(&h_row)
            .for_each(|dh, &w, &h| {
                if h > T::zero() {
                    *dh = g * w;
                }
            });
    }
    let d_w1 = d.s.t().dot(&d_h);
    let d_b1 = d_h.sum_axis(ndarray::Axis(0));
    StepResult {
        loss: loss * inv_n,
        grads: vec![
            ("w1", d_w1.into_dyn()),
            ("b1", d_b1.into_dyn()),
            ("w2", d_w2.into_dyn()),
            ("b2", d_b2.into_dyn()),
        ],
    }
}

/// The variants at full size in `f32`.
pub fn variants(seed: u64) -> Vec<Variant> {
    crate::hand_and_generated(Data::<f32>::new(Sizes::FULL, seed), hand, generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_and_hand_written_agree() {
        crate::assert_agree(|seed| Data::<f64>::new(Sizes::SMALL, seed), generated, hand);
    }
}
