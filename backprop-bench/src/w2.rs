//! W2: an elementwise chain on `x[1024, 1024]`,
//! `sum(x * sigmoid(1.702 x) + 0.5 tanh(x)^2 - softplus(x) / (1 + x^2))`. Gradient: `x`.

use backprop::prelude::*;
use backprop::{Real, SeededRng};
use ndarray::{Array2, Zip};

use crate::{StepResult, Variant, normal};

/// The sizes of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Rows of `x`.
    pub rows: usize,
    /// Columns of `x`.
    pub cols: usize,
}

impl Sizes {
    /// The workload as specified: `[1024, 1024]`.
    pub const FULL: Sizes = Sizes {
        rows: 1024,
        cols: 1024,
    };
    /// A small instance for tests.
    pub const SMALL: Sizes = Sizes { rows: 9, cols: 13 };

    /// The bytes a step must move at least: `x` read once and `dx` written once.
    pub fn bytes<T>(self) -> f64 {
        (2 * self.rows * self.cols * std::mem::size_of::<T>()) as f64
    }
}

/// The inputs of one step.
#[derive(Clone, Debug)]
pub struct Data<T> {
    /// `[rows, cols]`, standard normal times 2 (so that every branch of the
    /// sigmoid and softplus is taken).
    pub x: Array2<T>,
}

impl<T: Real> Data<T> {
    /// Data of the given sizes drawn from `seed`.
    pub fn new(s: Sizes, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        Data {
            x: normal((s.rows, s.cols), 2.0, &mut rng),
        }
    }
}

/// The whole workload as a user writes it.
#[differentiable]
pub fn elementwise_chain<T: Real>(x: ArrayView2<T>) -> T {
    let gated = x * sigmoid(x * 1.702);
    let squashed = tanh(x).square() * 0.5;
    let damped = softplus(x) / (x.square() + 1.0);
    (gated + squashed - damped).sum()
}

/// One step through the generated [`elementwise_chain_train`] and
/// [`elementwise_chain_backward`].
pub fn generated<T: Real>(d: &Data<T>) -> StepResult<T> {
    let (loss, saved) = elementwise_chain_train(d.x.view());
    let g = elementwise_chain_backward(&saved, T::one());
    StepResult {
        loss,
        grads: vec![("x", g.x.into_dyn())],
    }
}

/// `sigmoid(x)` from `e = exp(-|x|)`, without overflow.
fn sigmoid_from<T: Real>(x: T, e: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + e)
    } else {
        e / (T::one() + e)
    }
}

/// One step written by hand: a single pass over `x` that computes each element's
/// term of the loss and its derivative (two `exp`, one `ln_1p`, one `tanh`), writes
/// the derivative to `dx` and adds the term to the loss (in `f64`).
pub fn hand<T: Real>(d: &Data<T>) -> StepResult<T> {
    let one = T::one();
    let two = T::lit(2.0);
    let half = T::lit(0.5);
    let k = T::lit(1.702);
    let mut loss = 0.0f64;
    let dx = Zip::from(&d.x).map_collect(|&x| {
        let e = (-x.abs()).exp();
        let s = sigmoid_from(x, e);
        let softplus = x.max(T::zero()) + e.ln_1p();
        let z = k * x;
        let sz = sigmoid_from(z, (-z.abs()).exp());
        let th = x.tanh();
        let r = one / (one + x * x);
        let f = x * sz + half * th * th - softplus * r;
        loss += f.to_f64_lossy();
        sz + z * sz * (one - sz) + th * (one - th * th) - s * r + two * x * softplus * r * r
    });
    StepResult {
        loss: T::lit(loss),
        grads: vec![("x", dx.into_dyn())],
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
