//! Adam and AdamW.

use ndarray::{ArrayD, Zip};

use super::state::{PerParam, StateReader, step_count_tensor};
use super::{OptimStateError, Optimizer};
use crate::{ParamMut, Parameters, Real};

/// Adam: running means of the gradient `m ← β₁·m + (1 − β₁)·g` and of its square
/// `v ← β₂·v + (1 − β₂)·g²` (both starting from 0), corrected for that start at
/// step `t` (counting from 1), `m̂ = m / (1 − β₁ᵗ)` and `v̂ = v / (1 − β₂ᵗ)`, give the
/// update `w ← w − lr·m̂ / (√v̂ + ε)`.
///
/// State: the step count `adam.t` (0-d) and the moments `adam.m.{name}` and
/// `adam.v.{name}` of each parameter. The step count is shared: every parameter is
/// expected in every step.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// The `λ` of [`AdamW`]; 0 for Adam.
    decoupled_weight_decay: f64,
    steps: u64,
    moments: PerParam<T, 2>,
}

impl<T: Real> Adam<T> {
    /// Adam with learning rate `lr`, `β₁ = 0.9`, `β₂ = 0.999` and `ε = 1e-8`.
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            decoupled_weight_decay: 0.0,
            steps: 0,
            moments: PerParam::new("adam", ["m", "v"]),
        }
    }

    /// The decay rates `β₁` of the mean and `β₂` of the mean square (default 0.9, 0.999).
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        Adam {
            beta1,
            beta2,
            ..self
        }
    }

    /// `ε`, added to `√v̂` to keep the division finite (default 1e-8).
    pub fn eps(self, eps: f64) -> Self {
        Adam { eps, ..self }
    }
}

impl<T: Real> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) {
        self.steps += 1;
        let t = self.steps as f64;
        let (lr, eps) = (T::lit(self.lr), T::lit(self.eps));
        let (beta1, beta2) = (T::lit(self.beta1), T::lit(self.beta2));
        let bias_correction1 = T::lit(1.0 - self.beta1.powf(t));
        let bias_correction2 = T::lit(1.0 - self.beta2.powf(t));
        let weight_decay = T::lit(self.decoupled_weight_decay);
        params.visit_params(&mut |ParamMut { name, value, grad }| {
            let [m, v] = self.moments.get(name, value.shape());
            Zip::from(value)
                .and(&grad)
                .and(m)
                .and(v)
                .for_each(|w, &g, m, v| {
                    *m = beta1 * *m + (T::one() - beta1) * g;
                    *v = beta2 * *v + (T::one() - beta2) * g * g;
                    let m_hat = *m / bias_correction1;
                    let v_hat = *v / bias_correction2;
                    *w -= lr * (weight_decay * *w + m_hat / (v_hat.sqrt() + eps));
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
        let mut state = vec![("adam.t".to_owned(), step_count_tensor(self.steps))];
        self.moments.save_into(&mut state);
        state
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<T>)>) -> Result<(), OptimStateError> {
        let mut reader = StateReader::new(state)?;
        let steps = reader.take_step_count("adam.t")?;
        let moments = self.moments.read(&mut reader)?;
        reader.finish()?;
        self.steps = steps;
        self.moments = moments;
        Ok(())
    }
}

/// AdamW: [`Adam`] with decoupled weight decay `λ`, which shrinks the weights
/// directly instead of adding `λ·w` to the gradient (where Adam's scaling would
/// weaken it): `w ← w − lr·(λ·w + m̂ / (√v̂ + ε))`.
///
/// State: as [`Adam`]'s, under the same names, so either can resume from the other.
#[derive(Clone, Debug)]
pub struct AdamW<T> {
    adam: Adam<T>,
}

impl<T: Real> AdamW<T> {
    /// AdamW with learning rate `lr`, `λ = 0.01`, `β₁ = 0.9`, `β₂ = 0.999` and `ε = 1e-8`.
    pub fn new(lr: f64) -> Self {
        let adam = Adam {
            decoupled_weight_decay: 0.01,
            ..Adam::new(lr)
        };
        AdamW { adam }
    }

    /// The decay rates `β₁` of the mean and `β₂` of the mean square (default 0.9, 0.999).
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        AdamW {
            adam: self.adam.betas(beta1, beta2),
        }
    }

    /// `ε`, added to `√v̂` to keep the division finite (default 1e-8).
    pub fn eps(self, eps: f64) -> Self {
        AdamW {
            adam: self.adam.eps(eps),
        }
    }

    /// The decoupled weight decay `λ` (default 0.01).
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        let adam = Adam {
            decoupled_weight_decay: weight_decay,
            ..self.adam
        };
        AdamW { adam }
    }
}

impl<T: Real> Optimizer<T> for AdamW<T> {
    fn step(&mut self, params: &mut dyn Parameters<T>) {
        self.adam.step(params);
    }

    fn learning_rate(&self) -> f64 {
        self.adam.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.adam.lr = lr;
    }

    fn state(&self) -> Vec<(String, ArrayD<T>)> {
        self.adam.state()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<T>)>) -> Result<(), OptimStateError> {
        self.adam.load_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{TwoParams, assert_close};

    // Both tests use β₁ = 0.5, β₂ = 0.75, ε = 0.5, lr = 0.1 and the gradients
    // g₁ = [1, -2, 0.5], then g₂ = [1, 2, -0.5] (so g₂² = g₁²).
    //
    // Step 1: m = 0.5 g₁, v = 0.25 g₁²; m̂ = m / 0.5 = g₁, v̂ = v / 0.25 = g₁²
    //   √v̂ + ε = [1.5, 2.5, 1]; m̂ / (√v̂ + ε) = [2/3, -0.8, 0.5]
    // Step 2: m = 0.5 [0.5, -1, 0.25] + 0.5 [1, 2, -0.5] = [0.75, 0.5, -0.125]
    //   v = (0.75 · 0.25 + 0.25) g₁² = 0.4375 g₁²
    //   m̂ = m / (1 - 0.25) = [1, 2/3, -1/6]; v̂ = v / (1 - 0.5625) = g₁²
    //   m̂ / (√v̂ + ε) = [1 / 1.5, (2/3) / 2.5, (-1/6) / 1] = [2/3, 4/15, -1/6]
    const G1: [f64; 3] = [1.0, -2.0, 0.5];
    const G2: [f64; 3] = [1.0, 2.0, -0.5];

    #[test]
    fn adam_two_steps() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        let mut adam = Adam::new(0.1).betas(0.5, 0.75).eps(0.5);
        // w = [1 - 0.2/3, -2 + 0.08, 0.5 - 0.05]
        model.set_grads(G1);
        adam.step(&mut model);
        assert_close(model.values(), [14.0 / 15.0, -1.92, 0.45]);
        // w = [14/15 - 0.2/3, -1.92 - 0.4/15, 0.45 + 0.1/6]
        model.set_grads(G2);
        adam.step(&mut model);
        assert_close(
            model.values(),
            [13.0 / 15.0, -1.92 - 2.0 / 75.0, 7.0 / 15.0],
        );
    }

    #[test]
    fn adamw_two_steps() {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        let mut adamw = AdamW::new(0.1).betas(0.5, 0.75).eps(0.5).weight_decay(0.5);
        // w - 0.1 (0.5 w + update) = 0.95 w - 0.1 update
        // = [0.95 - 0.2/3, -1.9 + 0.08, 0.475 - 0.05] = [53/60, -1.82, 0.425]
        model.set_grads(G1);
        adamw.step(&mut model);
        assert_close(model.values(), [53.0 / 60.0, -1.82, 0.425]);
        // = [0.95 · 53/60 - 0.2/3, 0.95 · -1.82 - 0.4/15, 0.95 · 0.425 + 0.1/6]
        // = [1007/1200 - 80/1200, -1.729 - 2/75, 0.40375 + 1/60]
        model.set_grads(G2);
        adamw.step(&mut model);
        let expected = [927.0 / 1200.0, -1.729 - 2.0 / 75.0, 0.40375 + 1.0 / 60.0];
        assert_close(model.values(), expected);
    }

    #[test]
    fn adam_defaults_first_step_is_lr_times_the_sign() {
        // With bias correction, m̂ = g and √v̂ = |g| on the first step.
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        model.set_grads([3.0, -0.25, 40.0]);
        Adam::new(0.01).step(&mut model);
        let moved = [1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01];
        let close = model
            .values()
            .iter()
            .zip(&moved)
            .all(|(a, e)| (a - e).abs() < 1e-8);
        assert!(close, "{:?}", model.values());
    }
}
