//! RMSProp.

use ndarray::{ArrayD, Zip};

use super::state::PerParam;
use super::{OptimStateError, Optimizer};
use crate::{ParamMut, Parameters, Real};

/// RMSProp: a running mean of squared gradients `s ← ρ·s + (1 − ρ)·g²` (starting
/// from 0) scales each step, `w ← w − lr·g / (√s + ε)`, with `ε` outside the root
/// as in PyTorch.
///
/// State: the mean square of each parameter, saved as `rmsprop.mean_square.{name}`.
#[derive(Clone, Debug)]
pub struct RmsProp<T> {
    lr: f64,
    decay: f64,
    eps: f64,
    mean_square: PerParam<T, 1>,
}

impl<T: Real> RmsProp<T> {
    /// RMSProp with learning rate `lr`, decay `ρ = 0.99` and `ε = 1e-8`.
    pub fn new(lr: f64) -> Self {
        RmsProp {
            lr,
            decay: 0.99,
            eps: 1e-8,
            mean_square: PerParam::new("rmsprop", ["mean_square"]),
        }
    }

    /// The decay `ρ` of the running mean of squared gradients (default 0.99).
    pub fn decay(self, decay: f64) -> Self {
        RmsProp { decay, ..self }
    }

    /// `ε`, added to the root mean square to keep the division finite (default 1e-8).
    pub fn eps(self, eps: f64) -> Self {
        RmsProp { eps, ..self }
    }
}

impl<T: Real> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) {
        let (lr, decay, eps) = (T::lit(self.lr), T::lit(self.decay), T::lit(self.eps));
        params.visit_params(&mut |ParamMut { name, value, grad }| {
            let [mean_square] = self.mean_square.get(name, value.shape());
            Zip::from(value)
                .and(&grad)
                .and(mean_square)
                .for_each(|w, &g, s| {
                    *s = decay * *s + (T::one() - decay) * g * g;
                    *w -= lr * g / (s.sqrt() + eps);
                });
        });
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state(&self) -> Vec<(String, ArrayD<T>)> {
        self.mean_square.to_state()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<T>)>) -> Result<(), OptimStateError> {
        self.mean_square.load_all(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{TwoParams, assert_close};

    #[test]
    fn rmsprop_two_steps() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        let mut rmsprop = RmsProp::new(0.1).decay(0.75).eps(0.5);
        // s = 0.25 g² = 0.25 [4, 16, 1] = [1, 4, 0.25]; √s + ε = [1.5, 2.5, 1]
        // g / (√s + ε) = [2 / 1.5, -4 / 2.5, 1 / 1] = [4/3, -1.6, 1]
        // w = [1 - 0.4/3, -2 + 0.16, 0.5 - 0.1] = [13/15, -1.84, 0.4]
        model.set_grads([2.0, -4.0, 1.0]);
        rmsprop.step(&mut model);
        assert_close(model.values(), [13.0 / 15.0, -1.84, 0.4]);
        // s = 0.75 [1, 4, 0.25] + 0.25 [1, 4, 0.25] = [1, 4, 0.25]; √s + ε = [1.5, 2.5, 1]
        // g / (√s + ε) = [1 / 1.5, 2 / 2.5, -0.5 / 1] = [2/3, 0.8, -0.5]
        // w = [13/15 - 1/15, -1.84 - 0.08, 0.4 + 0.05]
        model.set_grads([1.0, 2.0, -0.5]);
        rmsprop.step(&mut model);
        assert_close(model.values(), [0.8, -1.92, 0.45]);
    }
}
