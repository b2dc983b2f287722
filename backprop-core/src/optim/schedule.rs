//! Learning-rate schedules.

use std::f64::consts::PI;

/// A learning rate for each step. Apply it with
/// `optimizer.set_learning_rate(schedule.lr(step))` before each step.
pub trait LrSchedule {
    /// The learning rate of step `step`, counting from 0.
    fn lr(&self, step: usize) -> f64;
}

/// The same learning rate at every step.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantLr {
    lr: f64,
}

impl ConstantLr {
    /// `lr` at every step.
    pub fn new(lr: f64) -> Self {
        ConstantLr { lr }
    }
}

impl LrSchedule for ConstantLr {
    fn lr(&self, _step: usize) -> f64 {
        self.lr
    }
}

/// Step decay: `initial_lr · gammaᵏ` with `k = step / every` (whole steps), that is,
/// the rate is multiplied by `gamma` every `every` steps.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLr {
    initial_lr: f64,
    every: usize,
    gamma: f64,
}

impl StepLr {
    /// `initial_lr`, multiplied by `gamma` every `every` steps.
    ///
    /// # Panics
    /// If `every` is 0.
    pub fn new(initial_lr: f64, every: usize, gamma: f64) -> Self {
        assert!(every > 0, "StepLr: `every` must be at least 1 step");
        StepLr {
            initial_lr,
            every,
            gamma,
        }
    }
}

impl LrSchedule for StepLr {
    fn lr(&self, step: usize) -> f64 {
        self.initial_lr * self.gamma.powf((step / self.every) as f64)
    }
}

/// Cosine annealing from `max_lr` to `min_lr` over `total_steps`, after an optional
/// linear warmup.
///
/// During the `warmup` steps the rate rises linearly, `max_lr · (step + 1) / warmup`,
/// reaching `max_lr` on the last warmup step. Then it follows half a cosine,
/// `min_lr + (max_lr − min_lr) · (1 + cos(π · p)) / 2` with
/// `p = (step − warmup) / (total_steps − warmup)`, and stays at `min_lr` from step
/// `total_steps` on (immediately if `total_steps <= warmup`).
#[derive(Clone, Debug, PartialEq)]
pub struct CosineLr {
    max_lr: f64,
    min_lr: f64,
    warmup: usize,
    total_steps: usize,
}

impl CosineLr {
    /// From `max_lr` down to 0 over `total_steps`, without warmup.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        CosineLr {
            max_lr,
            min_lr: 0.0,
            warmup: 0,
            total_steps,
        }
    }

    /// The rate at the end of the schedule (default 0).
    pub fn min_lr(self, min_lr: f64) -> Self {
        CosineLr { min_lr, ..self }
    }

    /// The number of linear warmup steps, counted within `total_steps` (default 0).
    pub fn warmup(self, warmup: usize) -> Self {
        CosineLr { warmup, ..self }
    }
}

impl LrSchedule for CosineLr {
    fn lr(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.max_lr * (step + 1) as f64 / self.warmup as f64;
        }
        let decay_steps = self.total_steps.saturating_sub(self.warmup);
        let progress = if decay_steps == 0 {
            1.0
        } else {
            (step - self.warmup).min(decay_steps) as f64 / decay_steps as f64
        };
        self.min_lr + (self.max_lr - self.min_lr) * 0.5 * (1.0 + (PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-12,
            "got {actual}, expected {expected}"
        );
    }

    #[test]
    fn constant() {
        let schedule = ConstantLr::new(0.1);
        assert_eq!(schedule.lr(0), 0.1);
        assert_eq!(schedule.lr(1_000_000), 0.1);
    }

    #[test]
    fn step_decay() {
        let schedule = StepLr::new(1.0, 10, 0.5);
        assert_eq!(schedule.lr(0), 1.0);
        assert_eq!(schedule.lr(9), 1.0);
        assert_eq!(schedule.lr(10), 0.5);
        // 25 / 10 = 2 decays: 0.5² = 0.25
        assert_eq!(schedule.lr(25), 0.25);
    }

    #[test]
    fn cosine_without_warmup() {
        let schedule = CosineLr::new(1.0, 100).min_lr(0.1);
        assert_close(schedule.lr(0), 1.0);
        // Halfway: 0.1 + 0.9 · (1 + cos(π/2)) / 2 = 0.55
        assert_close(schedule.lr(50), 0.55);
        // A quarter: 0.1 + 0.9 · (1 + cos(π/4)) / 2
        assert_close(schedule.lr(25), 0.1 + 0.45 * (1.0 + 0.5f64.sqrt()));
        assert_close(schedule.lr(100), 0.1);
        assert_close(schedule.lr(1000), 0.1);
    }

    #[test]
    fn cosine_with_warmup() {
        let schedule = CosineLr::new(1.0, 110).warmup(10);
        // Warmup: (step + 1) / 10
        assert_close(schedule.lr(0), 0.1);
        assert_close(schedule.lr(4), 0.5);
        assert_close(schedule.lr(9), 1.0);
        // Then the cosine over the remaining 100 steps, down to 0.
        assert_close(schedule.lr(10), 1.0);
        assert_close(schedule.lr(60), 0.5);
        assert_close(schedule.lr(110), 0.0);
        // No steps left after the warmup: straight to the minimum.
        let all_warmup = CosineLr::new(1.0, 5).warmup(5).min_lr(0.2);
        assert_close(all_warmup.lr(4), 1.0);
        assert_close(all_warmup.lr(5), 0.2);
    }

    #[test]
    #[should_panic(expected = "at least 1 step")]
    fn step_decay_every_zero_panics() {
        StepLr::new(1.0, 0, 0.5);
    }
}
