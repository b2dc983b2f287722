//! W1: an MLP, `x[128, 784] -> affine 784x256 -> relu -> affine 256x10 -> softmax
//! cross-entropy` with integer labels, mean over the batch. Gradients: `w1`, `b1`,
//! `w2`, `b2` (not `x`).

use backprop::layers::{Affine, Relu};
use backprop::losses::{softmax_cross_entropy_backward, softmax_cross_entropy_train};
use backprop::model::Sequential;
use backprop::monitor::Monitor;
use backprop::prelude::*;
use backprop::{Real, SeededRng};
use ndarray::{Array1, Array2, Ix2, Zip};

use crate::{StepResult, Variant, indices, normal};

/// The sizes of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Rows of `x`.
    pub batch: usize,
    /// Columns of `x`.
    pub inputs: usize,
    /// Units of the hidden layer.
    pub hidden: usize,
    /// Classes.
    pub classes: usize,
}

impl Sizes {
    /// The workload as specified: batch 128, 784 -> 256 -> 10.
    pub const FULL: Sizes = Sizes {
        batch: 128,
        inputs: 784,
        hidden: 256,
        classes: 10,
    };
    /// A small instance for tests.
    pub const SMALL: Sizes = Sizes {
        batch: 7,
        inputs: 12,
        hidden: 9,
        classes: 4,
    };

    /// The floating-point operations of the matrix products a step needs: the two
    /// forward products, the two weight gradients and the hidden gradient (`x` takes none).
    pub fn flops(self) -> f64 {
        let Sizes {
            batch: n,
            inputs: i,
            hidden: h,
            classes: c,
        } = self;
        (2 * n * i * h * 2 + 2 * n * h * c * 3) as f64
    }
}

/// The inputs of one step.
#[derive(Clone, Debug)]
pub struct Data<T> {
    /// `[batch, inputs]`, uniform in `[0, 1)` like pixel intensities.
    pub x: Array2<T>,
    /// `[inputs, hidden]`, He-normal.
    pub w1: Array2<T>,
    /// `[hidden]`.
    pub b1: Array1<T>,
    /// `[hidden, classes]`, He-normal.
    pub w2: Array2<T>,
    /// `[classes]`.
    pub b2: Array1<T>,
    /// `[batch]`, in `0..classes`.
    pub labels: Array1<usize>,
}

impl<T: Real> Data<T> {
    /// Data of the given sizes drawn from `seed`.
    pub fn new(s: Sizes, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let x = Array2::from_shape_simple_fn((s.batch, s.inputs), || T::lit(rng.uniform()));
        Data {
            x,
            w1: normal(
                (s.inputs, s.hidden),
                (2.0 / s.inputs as f64).sqrt(),
                &mut rng,
            ),
            b1: normal(s.hidden, 0.1, &mut rng),
            w2: normal(
                (s.hidden, s.classes),
                (2.0 / s.hidden as f64).sqrt(),
                &mut rng,
            ),
            b2: normal(s.classes, 0.1, &mut rng),
            labels: indices(s.batch, s.classes, &mut rng),
        }
    }
}

/// The whole workload as a user writes it: one function, loss included.
#[differentiable]
pub fn mlp_loss<T: Real>(
    #[no_grad] x: ArrayView2<T>,
    w1: ArrayView2<T>,
    b1: ArrayView1<T>,
    w2: ArrayView2<T>,
    b2: ArrayView1<T>,
    labels: ArrayView1<usize>,
) -> T {
    let h = relu(x.dot(&w1) + &b1);
    let scores = h.dot(&w2) + &b2;
    -pick(log_softmax(scores, Axis(1)), &labels).mean()
}

/// One step through the generated [`mlp_loss_train`] and [`mlp_loss_backward`].
pub fn generated<T: Real>(d: &Data<T>) -> StepResult<T> {
    let (loss, saved) = mlp_loss_train(
        d.x.view(),
        d.w1.view(),
        d.b1.view(),
        d.w2.view(),
        d.b2.view(),
        d.labels.view(),
    );
    let g = mlp_loss_backward(&saved, T::one());
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

/// One step written by hand: two products forward with the bias and ReLU fused in
/// place, the softmax cross-entropy and its gradient in one pass per row (in the
/// scores' buffer), three products backward.
pub fn hand<T: Real>(d: &Data<T>) -> StepResult<T> {
    let n = d.x.nrows();
    let inv_n = T::one() / T::from_usize(n).expect("batch size fits the float type");

    let mut h = d.x.dot(&d.w1);
    Zip::from(&mut h)
        .and_broadcast(&d.b1)
        .for_each(|h, &b| *h = (*h + b).max(T::zero()));
    let mut scores = h.dot(&d.w2);
    Zip::from(&mut scores)
        .and_broadcast(&d.b2)
        .for_each(|s, &b| *s += b);

    // Softmax cross-entropy; the scores become their gradient.
    let mut loss = T::zero();
    for (mut row, &label) in scores.rows_mut().into_iter().zip(&d.labels) {
        let m = row.fold(T::neg_infinity(), |m, &s| m.max(s));
        let picked = row[label] - m;
        let mut total = T::zero();
        row.mapv_inplace(|s| {
            let e = (s - m).exp();
            total += e;
            e
        });
        loss += total.ln() - picked;
        let scale = inv_n / total;
        row.mapv_inplace(|e| e * scale);
        row[label] -= inv_n;
    }
    let d_scores = scores;

    let d_w2 = h.t().dot(&d_scores);
    let d_b2 = d_scores.sum_axis(ndarray::Axis(0));
    let mut d_h = d_scores.dot(&d.w2.t());
    Zip::from(&mut d_h).and(&h).for_each(|g, &h| {
        if h <= T::zero() {
            *g = T::zero();
        }
    });
    let d_w1 = d.x.t().dot(&d_h);
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

/// The workload through the runtime's layers: a `Sequential` of `Affine`, `Relu`,
/// `Affine`, and `backprop::losses::softmax_cross_entropy`.
#[derive(Debug)]
pub struct Layers<T: Real> {
    model: Sequential<T>,
    x: Array2<T>,
    labels: Array1<usize>,
}

impl<T: Real> Layers<T> {
    /// The model with the weights of `d`.
    pub fn new(d: &Data<T>) -> Self {
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::from_arrays(d.w1.clone(), d.b1.clone()))
            .add(Relu::new())
            .push("fc2", Affine::from_arrays(d.w2.clone(), d.b2.clone()));
        Layers {
            model,
            x: d.x.clone(),
            labels: d.labels.clone(),
        }
    }

    /// One step: the training forward, the loss and its gradient, the model's
    /// backward for training (`backward_params`, as `train_step` runs it: the
    /// input's gradient is not computed); the accumulated gradients are then taken out of the model (and
    /// replaced by zeros, which is the `zero_grad` of the next step).
    pub fn step(&mut self) -> StepResult<T> {
        let scores = self.model.forward_train_as::<Ix2>(&self.x);
        let (loss, saved) = softmax_cross_entropy_train(scores.view(), self.labels.view());
        let d_scores = softmax_cross_entropy_backward(&saved, T::one()).scores;
        self.model.backward_params(&d_scores);
        // What train_step gives an attached monitor before clipping (nothing without one).
        if let Some(mut monitor) = self.model.take_monitor() {
            monitor.observe_gradients(&mut self.model);
            self.model.set_monitor(monitor);
        }
        let mut grads = Vec::with_capacity(4);
        for (layer, w, b) in [("fc1", "w1", "b1"), ("fc2", "w2", "b2")] {
            let affine = self
                .model
                .get_mut::<Affine<T>>(layer)
                .expect("the model has this layer");
            let gw = std::mem::replace(&mut affine.w.grad, Array2::zeros(affine.w.value.raw_dim()));
            let gb = std::mem::replace(&mut affine.b.grad, Array1::zeros(affine.b.value.len()));
            grads.push((w, gw.into_dyn()));
            grads.push((b, gb.into_dyn()));
        }
        StepResult { loss, grads }
    }
}

/// The monitored variants at full size in `f32`: the generated step feeding a
/// monitor, and the layers with a monitor attached (the ReLU's dead units every
/// step, the gradient norms at the monitor's period).
pub fn monitored_variants(seed: u64) -> Vec<Variant> {
    let d = Data::<f32>::new(Sizes::FULL, seed);
    let mut layers = Layers::new(&d);
    layers.model.set_monitor(Monitor::default());
    vec![
        crate::monitored_step(d, generated),
        Variant::new("layers, monitored", move || layers.step()),
    ]
}

/// The variants at full size in `f32`.
pub fn variants(seed: u64) -> Vec<Variant> {
    let d = Data::<f32>::new(Sizes::FULL, seed);
    let mut layers = Layers::new(&d);
    let mut variants = crate::hand_and_generated(d, hand, generated);
    variants.push(Variant::new("layers", move || layers.step()));
    variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::max_rel_diff;

    #[test]
    fn generated_layers_and_hand_written_agree() {
        for seed in 0..3 {
            let d = Data::<f64>::new(Sizes::SMALL, seed);
            let by_hand = hand(&d);
            let diff = max_rel_diff(&generated(&d), &by_hand);
            assert!(diff < 1e-9, "generated vs hand-written: {diff:e}");
            let mut layers = Layers::new(&d);
            for _ in 0..2 {
                let diff = max_rel_diff(&layers.step(), &by_hand);
                assert!(diff < 1e-9, "layers vs hand-written: {diff:e}");
            }
        }
    }
}
