//! Plain gradient descent, with and without momentum.

use std::marker::PhantomData;

use ndarray::{ArrayD, Zip};

use super::state::{PerParam, StateReader};
use super::{OptimStateError, Optimizer};
use crate::{ParamMut, Parameters, Real};

/// Stochastic gradient descent: `w ← w − lr·(g + weight_decay·w)`.
///
/// Stateless: [`Optimizer::state`] is empty.
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    lr: f64,
    weight_decay: f64,
    real: PhantomData<T>,
}

impl<T: Real> Sgd<T> {
    /// Gradient descent with learning rate `lr` and no weight decay.
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            weight_decay: 0.0,
            real: PhantomData,
        }
    }

    /// L2 weight decay: `weight_decay·w` is added to the gradient (default 0).
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        Sgd {
            weight_decay,
            ..self
        }
    }
}

impl<T: Real> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) {
        let (lr, weight_decay) = (T::lit(self.lr), T::lit(self.weight_decay));
        params.visit_params(&mut |ParamMut { value, grad, .. }| {
            Zip::from(value).and(&grad).for_each(|w, &g| {
                *w -= lr * (g + weight_decay * *w);
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
        Vec::new()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<T>)>) -> Result<(), OptimStateError> {
        StateReader::new(state)?.finish()
    }
}

/// Gradient descent with momentum, in PyTorch's form: with `g` the gradient plus
/// `weight_decay·w`, the velocity is `v ← μ·v + g` (starting from 0), and the update
/// `w ← w − lr·v` (heavy ball) or `w ← w − lr·(g + μ·v)` (Nesterov).
///
/// State: the velocity of each parameter, saved as `momentum.velocity.{name}`.
#[derive(Clone, Debug)]
pub struct Momentum<T> {
    lr: f64,
    momentum: f64,
    nesterov: bool,
    weight_decay: f64,
    velocity: PerParam<T, 1>,
}

impl<T: Real> Momentum<T> {
    /// Heavy-ball momentum with learning rate `lr`, momentum 0.9 and no weight decay.
    pub fn new(lr: f64) -> Self {
        Momentum {
            lr,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            velocity: PerParam::new("momentum", ["velocity"]),
        }
    }

    /// The momentum coefficient `μ` (default 0.9).
    pub fn momentum(self, momentum: f64) -> Self {
        Momentum { momentum, ..self }
    }

    /// Nesterov momentum instead of heavy ball (default false).
    pub fn nesterov(self, nesterov: bool) -> Self {
        Momentum { nesterov, ..self }
    }

    /// L2 weight decay: `weight_decay·w` is added to the gradient (default 0).
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        Momentum {
            weight_decay,
            ..self
        }
    }
}

impl<T: Real> Optimizer<T> for Momentum<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) {
        let (lr, mu, weight_decay) = (
            T::lit(self.lr),
            T::lit(self.momentum),
            T::lit(self.weight_decay),
        );
        let nesterov = self.nesterov;
        params.visit_params(&mut |ParamMut { name, value, grad }| {
            let [velocity] = self.velocity.get(name, value.shape());
            Zip::from(value)
                .and(&grad)
                .and(velocity)
                .for_each(|w, &g, v| {
                    let g = g + weight_decay * *w;
                    *v = mu * *v + g;
                    let direction = if nesterov { g + mu * *v } else { *v };
                    *w -= lr * direction;
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
        self.velocity.to_state()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<T>)>) -> Result<(), OptimStateError> {
        self.velocity.load_all(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{TwoParams, assert_close};

    #[test]
    fn sgd_steps_against_the_gradient_and_keeps_it() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        model.set_grads([0.5, -1.0, 2.0]);
        let mut sgd = Sgd::new(0.1);
        // w - 0.1 g = [1 - 0.05, -2 + 0.1, 0.5 - 0.2]
        sgd.step(&mut model);
        assert_close(model.values(), [0.95, -1.9, 0.3]);
        // The gradient is not zeroed, so a second step moves as far again.
        assert_close(model.grads(), [0.5, -1.0, 2.0]);
        sgd.step(&mut model);
        assert_close(model.values(), [0.9, -1.8, 0.1]);
    }

    #[test]
    fn sgd_with_weight_decay() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        model.set_grads([0.5, -1.0, 2.0]);
        let mut sgd = Sgd::new(0.1).weight_decay(0.5);
        // g + 0.5 w = [0.5 + 0.5, -1 - 1, 2 + 0.25] = [1, -2, 2.25]
        // w - 0.1 (g + 0.5 w) = [1 - 0.1, -2 + 0.2, 0.5 - 0.225]
        sgd.step(&mut model);
        assert_close(model.values(), [0.9, -1.8, 0.275]);
        // g + 0.5 w = [0.5 + 0.45, -1 - 0.9, 2 + 0.1375] = [0.95, -1.9, 2.1375]
        // w - 0.1 (g + 0.5 w) = [0.9 - 0.095, -1.8 + 0.19, 0.275 - 0.21375]
        sgd.step(&mut model);
        assert_close(model.values(), [0.805, -1.61, 0.06125]);
    }

    #[test]
    fn heavy_ball_momentum() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        let mut momentum = Momentum::new(0.1).momentum(0.9);
        // v = g = [0.5, -1, 2]; w - 0.1 v = [1 - 0.05, -2 + 0.1, 0.5 - 0.2]
        model.set_grads([0.5, -1.0, 2.0]);
        momentum.step(&mut model);
        assert_close(model.values(), [0.95, -1.9, 0.3]);
        // v = 0.9 [0.5, -1, 2] + [1, 0, -1] = [1.45, -0.9, 0.8]
        // w - 0.1 v = [0.95 - 0.145, -1.9 + 0.09, 0.3 - 0.08]
        model.set_grads([1.0, 0.0, -1.0]);
        momentum.step(&mut model);
        assert_close(model.values(), [0.805, -1.81, 0.22]);
        // v = 0.9 [1.45, -0.9, 0.8] + [1, 0, -1] = [2.305, -0.81, -0.28]
        // w - 0.1 v = [0.805 - 0.2305, -1.81 + 0.081, 0.22 + 0.028]
        momentum.step(&mut model);
        assert_close(model.values(), [0.5745, -1.729, 0.248]);
    }

    #[test]
    fn nesterov_momentum() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        let mut nesterov = Momentum::new(0.1).momentum(0.9).nesterov(true);
        // v = g = [0.5, -1, 2]; g + 0.9 v = [0.95, -1.9, 3.8]
        // w - 0.1 (g + 0.9 v) = [1 - 0.095, -2 + 0.19, 0.5 - 0.38]
        model.set_grads([0.5, -1.0, 2.0]);
        nesterov.step(&mut model);
        assert_close(model.values(), [0.905, -1.81, 0.12]);
        // v = [1.45, -0.9, 0.8]; g + 0.9 v = [1 + 1.305, 0 - 0.81, -1 + 0.72]
        // w - 0.1 (g + 0.9 v) = [0.905 - 0.2305, -1.81 + 0.081, 0.12 + 0.028]
        model.set_grads([1.0, 0.0, -1.0]);
        nesterov.step(&mut model);
        assert_close(model.values(), [0.6745, -1.729, 0.148]);
    }

    #[test]
    fn momentum_weight_decay_enters_the_velocity() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        let mut momentum = Momentum::new(0.1).momentum(0.5).weight_decay(1.0);
        model.set_grads([0.0, 0.0, 0.0]);
        // v = g + w = w; w - 0.1 v = 0.9 w
        momentum.step(&mut model);
        assert_close(model.values(), [0.9, -1.8, 0.45]);
        // v = 0.5 w0 + 0.9 w0 = 1.4 w0; w = 0.9 w0 - 0.14 w0 = 0.76 w0
        momentum.step(&mut model);
        assert_close(model.values(), [0.76, -1.52, 0.38]);
    }

    #[test]
    fn learning_rate_is_read_and_set() {
        let mut sgd = Sgd::<f64>::new(0.1);
        sgd.set_learning_rate(0.01);
        assert_eq!(sgd.learning_rate(), 0.01);
        let mut momentum = Momentum::<f32>::new(0.1);
        momentum.set_learning_rate(0.02);
        assert_eq!(momentum.learning_rate(), 0.02);
    }

    #[test]
    #[should_panic(expected = "parameter `w` has shape [1, 3]")]
    fn a_parameter_that_changes_shape_panics_naming_it() {
        let mut momentum = Momentum::new(0.1);
        momentum.step(&mut TwoParams::new([1.0, 2.0, 3.0]));
        let mut grown = TwoParams::new([1.0, 2.0, 3.0]);
        grown.w = crate::Param::new(ndarray::array![[1.0, 2.0, 3.0]]);
        momentum.step(&mut grown);
    }
}
