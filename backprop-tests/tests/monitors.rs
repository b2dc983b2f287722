//! The runtime monitors and the doctor, tested for both errors: over 10 seeds,
//! each finding fires on every failing configuration and stays silent on every
//! healthy one (including the main example's training).

use backprop::data::{DIGITS_MAX_PIXEL, Dataset, digits};
use backprop::layers::{Affine, LastStep, Relu, Rnn, Sigmoid, Tanh};
use backprop::model::Sequential;
use backprop::monitor::{
    FindingKind, GradientThroughTime, Monitor, Report, largest_singular_value,
};
use backprop::ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Ix2};
use backprop::optim::{Adam, Momentum, Optimizer, Sgd};
use backprop::prelude::*;
use backprop::train::{EpochOptions, Target, shuffle_rng, train_epoch, train_step};
use backprop::{SeededRng, init};

const SEEDS: std::ops::Range<u64> = 0..10;

/// The digits, pixels raw (0 to 16) or scaled to `[0, 1]`.
fn digits_data(normalized: bool) -> Dataset<f32> {
    let data = digits::<f32>();
    if normalized {
        data.divide_features(f32::from(DIGITS_MAX_PIXEL))
    } else {
        data
    }
}

/// Trains `model` with a monitor for `epochs` passes and returns the report.
fn doctor(
    model: &mut Sequential<f32>,
    optimizer: &mut dyn Optimizer<f32>,
    data: &Dataset<f32>,
    epochs: u64,
    seed: u64,
) -> Report {
    model.set_monitor(Monitor::default());
    let options = EpochOptions::new(64);
    for epoch in 0..epochs {
        let mut shuffle = shuffle_rng(seed, epoch);
        train_epoch(
            model,
            optimizer,
            &data.features,
            &data.labels,
            &options,
            &mut shuffle,
            &mut |_| {},
        );
    }
    model.monitor().expect("attached").report()
}

/// Fails with every report that does not have (or has) a finding of `kind`.
fn expect(kind: FindingKind, fires: bool, reports: &[(u64, Report)]) {
    for (seed, report) in reports {
        let has = report.of_kind(kind).next().is_some();
        assert_eq!(
            has,
            fires,
            "{kind} with seed {seed}: expected {}\n{report}",
            if fires { "a finding" } else { "none" }
        );
    }
}

/// Fails unless the report has no finding at all.
fn silent(reports: &[(u64, Report)]) {
    for (seed, report) in reports {
        assert!(
            report.findings.is_empty(),
            "seed {seed}: a false alarm\n{report}"
        );
    }
}

/// 64 -> 32 `activation` -> 10, with weights of std 4 (`large`) or Xavier.
fn squashing_mlp(activation: &str, large: bool, seed: u64) -> Sequential<f32> {
    let mut rng = SeededRng::new(seed);
    let mut affine = |i: usize, o: usize| {
        if large {
            Affine::from_arrays(init::normal((i, o), 4.0, &mut rng), init::zeros(o))
        } else {
            Affine::xavier(i, o, &mut rng)
        }
    };
    let (fc1, fc2) = (affine(64, 32), affine(32, 10));
    let mut model = Sequential::new();
    model.push("fc1", fc1);
    match activation {
        "sigmoid" => model.push("act", Sigmoid::new()),
        _ => model.push("act", Tanh::new()),
    };
    model.push("fc2", fc2);
    model
}

#[test]
fn saturation_fires_on_large_weights_and_raw_inputs_and_not_on_xavier_and_scaled_inputs() {
    let (raw, scaled) = (digits_data(false), digits_data(true));
    for activation in ["sigmoid", "tanh"] {
        let failing: Vec<_> = SEEDS
            .map(|seed| {
                let mut model = squashing_mlp(activation, true, seed);
                (
                    seed,
                    doctor(&mut model, &mut Momentum::new(0.05), &raw, 2, seed),
                )
            })
            .collect();
        expect(FindingKind::Saturation, true, &failing);
        for (_, report) in &failing {
            let finding = report.of_kind(FindingKind::Saturation).next().unwrap();
            assert_eq!(finding.subject, "act");
            assert!(
                finding.measured > 0.5 && finding.advice.contains("Xavier"),
                "{report}"
            );
        }
        let healthy: Vec<_> = SEEDS
            .map(|seed| {
                let mut model = squashing_mlp(activation, false, seed);
                (
                    seed,
                    doctor(&mut model, &mut Adam::new(0.01), &scaled, 2, seed),
                )
            })
            .collect();
        silent(&healthy);
    }
}

fn relu_mlp(seed: u64) -> Sequential<f32> {
    let mut rng = SeededRng::new(seed);
    let mut model = Sequential::new();
    model
        .push("fc1", Affine::new(64, 128, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(128, 10, &mut rng));
    model
}

#[test]
fn dead_relu_fires_after_a_learning_rate_that_knocks_the_units_over() {
    let data = digits_data(true);
    let failing: Vec<_> = SEEDS
        .map(|seed| {
            (
                seed,
                doctor(&mut relu_mlp(seed), &mut Momentum::new(1.0), &data, 3, seed),
            )
        })
        .collect();
    expect(FindingKind::DeadRelu, true, &failing);
    for (_, report) in &failing {
        let finding = report.of_kind(FindingKind::DeadRelu).next().unwrap();
        assert_eq!(finding.subject, "relu");
        assert!(finding.what.contains("pass through the data"), "{report}");
    }
    let healthy: Vec<_> = SEEDS
        .map(|seed| {
            (
                seed,
                doctor(
                    &mut relu_mlp(seed),
                    &mut Momentum::new(0.01),
                    &data,
                    3,
                    seed,
                ),
            )
        })
        .collect();
    silent(&healthy);
}

#[test]
fn the_main_example_trains_without_a_false_alarm() {
    // The main example's MLP and optimizer (train_digits: 64 -> 128 ReLU -> 10,
    // Adam 0.005, batches of 32), for a few epochs.
    let data = digits_data(true).split(0.2, 2024).train;
    let reports: Vec<_> = SEEDS
        .map(|seed| {
            let mut model = Sequential::new();
            let mut rng = SeededRng::new(seed);
            model
                .push("fc1", Affine::new(64, 128, &mut rng))
                .push("relu1", Relu::new())
                .push("fc2", Affine::new(128, 10, &mut rng));
            model.set_monitor(Monitor::default());
            let mut adam = Adam::new(0.005);
            for epoch in 0..4 {
                let mut shuffle = shuffle_rng(seed, epoch);
                let options = EpochOptions::new(32);
                train_epoch(
                    &mut model,
                    &mut adam,
                    &data.features,
                    &data.labels,
                    &options,
                    &mut shuffle,
                    &mut |_| {},
                );
            }
            (seed, model.monitor().unwrap().report())
        })
        .collect();
    silent(&reports);
}

/// One step of the recurrence of the classic illustration.
#[differentiable]
fn relu_step<T: Real>(h_prev: ArrayView2<T>, whh: ArrayView2<T>) -> Array2<T> {
    relu(h_prev.dot(&whh))
}

/// `h_t = relu(h_{t-1} whh)` for 50 steps from positive states, backpropagated
/// from the sum of the last state, fed to a monitor.
fn relu_recurrence(whh: &Array2<f64>, seed: u64) -> Report {
    let mut h = init::uniform::<f64, _>((16, 5), 0.0, 1.0, &mut SeededRng::new(seed));
    let mut saved = Vec::new();
    for _ in 0..50 {
        let (next, s) = relu_step_train(h.view(), whh.view());
        saved.push(s);
        h = next;
    }
    let mut record = GradientThroughTime::new();
    let mut d_h = Array2::ones(h.raw_dim());
    for s in saved.iter().rev() {
        record.push_step(&d_h);
        d_h = relu_step_backward(s, d_h.view()).h_prev;
    }
    assert_eq!(record.step_norms.len(), 50);
    let mut monitor = Monitor::default();
    monitor.next_step();
    monitor.observe_through_time("whh", record);
    monitor.report()
}

/// A symmetric matrix with eigenvalues `lambda * (1, 0.9, ..., 0.6)`.
fn symmetric(lambda: f64, seed: u64) -> Array2<f64> {
    let q: Array2<f64> = init::orthogonal((5, 5), 1.0, &mut SeededRng::new(seed));
    let eigenvalues = Array1::from_shape_fn(5, |i| lambda * (1.0 - 0.1 * i as f64));
    q.dot(&Array2::from_diag(&eigenvalues)).dot(&q.t())
}

#[test]
fn gradients_through_time_explode_above_an_eigenvalue_of_one_and_vanish_below() {
    let run = |lambda: f64| -> Vec<(u64, Report)> {
        SEEDS
            .map(|seed| (seed, relu_recurrence(&symmetric(lambda, seed), seed)))
            .collect()
    };
    let exploding = run(1.5);
    expect(FindingKind::ExplodingGradient, true, &exploding);
    expect(FindingKind::VanishingGradient, false, &exploding);
    let vanishing = run(0.5);
    expect(FindingKind::VanishingGradient, true, &vanishing);
    expect(FindingKind::ExplodingGradient, false, &vanishing);
    // The identity keeps positive states, and the gradient, as they are.
    let stable: Vec<_> = SEEDS
        .map(|seed| (seed, relu_recurrence(&Array2::eye(5), seed)))
        .collect();
    silent(&stable);
}

/// An `Rnn` (16 hidden units, recurrence scaled by `scale`) -> last step ->
/// one output, trained on the adding problem of length 20 with a monitor.
fn rnn_on_adding(scale: f32, steps: u64, seed: u64) -> Sequential<f32> {
    let mut rng = SeededRng::new(seed);
    let mut rnn = Rnn::new(2, 16, &mut rng);
    rnn.wh.value.mapv_inplace(|w| w * scale);
    let mut model = Sequential::new();
    model
        .push("rnn", rnn)
        .push("last", LastStep::new())
        .push("out", Affine::xavier(16, 1, &mut rng));
    model.set_monitor(Monitor::default());
    let mut adam = Adam::new(0.01);
    for step in 0..steps {
        let batch = backprop::data::adding_problem::<f32>(32, 20, seed * 1000 + step);
        train_step(
            &mut model,
            &mut adam,
            &batch.inputs,
            Target::Values(batch.targets.view()),
            Some(1.0),
        );
    }
    model
}

#[test]
fn a_models_recurrent_layer_reports_its_gradient_at_every_step() {
    let model = rnn_on_adding(5.0, 3, 0);
    let monitor = model.monitor().unwrap();
    let [rnn] = &monitor.recurrences[..] else {
        panic!("one recurrent layer: {:?}", monitor.recurrences);
    };
    assert_eq!(rnn.layer, "rnn");
    assert_eq!(rnn.records.len(), 3, "one record per backward");
    let (step, record) = &rnn.records[2];
    assert_eq!((*step, record.step_norms.len()), (3, 20));
    // The singular value only at the parameter statistics' period (every 10 steps).
    assert_eq!(record.largest_singular_value, None);
    let sigma = largest_singular_value(&model.get::<Rnn<f32>>("rnn").unwrap().wh.value, 50);
    assert!(
        (sigma - 5.0).abs() < 0.5,
        "an orthogonal matrix times 5 after 3 small steps: {sigma}"
    );
    // Only the last step reads the loss: its gradient is what the read-out gives.
    assert!(record.step_norms.iter().all(|n| n.is_finite() && *n > 0.0));
    let exploding: Vec<_> = SEEDS
        .map(|seed| {
            (
                seed,
                rnn_on_adding(5.0, 3, seed).monitor().unwrap().report(),
            )
        })
        .collect();
    expect(FindingKind::ExplodingGradient, true, &exploding);
    // Without a monitor, no layer measures anything.
    let ((), records) = backprop::monitor::record_through_time(true, || {});
    assert!(records.is_empty());
}

/// The buggy DQN loss: the TD error's value clipped, then squared.
#[differentiable(allow(clip_zero_gradient))]
fn clipped_td_loss<T: Real>(
    q_all: ArrayView2<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    clip(target - pick(q_all, &actions), -1.0, 1.0)
        .square()
        .mean()
}

/// A clip whose range is far wider than the errors: nothing reaches its bounds.
#[differentiable(allow(clip_zero_gradient))]
fn wide_clipped_td_loss<T: Real>(
    q_all: ArrayView2<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    clip(target - pick(q_all, &actions), -1000.0, 1000.0)
        .square()
        .mean()
}

#[derive(Clone, Copy)]
enum Loss {
    Clip,
    WideClip,
    Huber,
}

#[differentiable]
fn huber_td_loss<T: Real>(
    q_all: ArrayView2<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    huber(target - pick(q_all, &actions), 1.0).mean()
}

/// A Q-network regressing targets `scale` times a linear function of the state,
/// for 30 steps, its loss's gradient fed to a monitor.
fn q_learning(loss: Loss, scale: f64, seed: u64) -> Report {
    let mut rng = SeededRng::new(seed);
    let truth: Array2<f32> = init::normal((8, 4), scale, &mut rng);
    let mut model = Sequential::new();
    model
        .push("fc1", Affine::new(8, 32, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(32, 4, &mut rng));
    model.set_monitor(Monitor::default());
    let mut adam = Adam::new(0.01);
    for _ in 0..30 {
        let states: Array2<f32> = init::normal((64, 8), 1.0, &mut rng);
        let actions = Array1::from_shape_fn(64, |_| rng.below(4));
        let values = states.dot(&truth);
        let targets = Array1::from_shape_fn(64, |i| values[[i, actions[i]]]);
        model.zero_grad();
        let q_all = model.forward_train_as::<Ix2>(&states);
        let (q, a, t) = (q_all.view(), actions.view(), targets.view());
        let d = match loss {
            Loss::Clip => clipped_td_loss_backward(&clipped_td_loss_train(q, a, t).1, 1.0).q_all,
            Loss::WideClip => {
                wide_clipped_td_loss_backward(&wide_clipped_td_loss_train(q, a, t).1, 1.0).q_all
            }
            Loss::Huber => huber_td_loss_backward(&huber_td_loss_train(q, a, t).1, 1.0).q_all,
        };
        model
            .monitor_mut()
            .unwrap()
            .observe_zeroed_by_clip("td_loss", &d);
        model.backward_params(&d);
        adam.step(&mut model);
    }
    model.monitor().unwrap().report()
}

#[test]
fn zeroed_by_clip_fires_on_a_value_clip_with_large_errors_and_not_on_huber() {
    let run = |loss, scale| -> Vec<(u64, Report)> {
        SEEDS
            .map(|seed| (seed, q_learning(loss, scale, seed)))
            .collect()
    };
    let failing = run(Loss::Clip, 10.0);
    expect(FindingKind::ZeroedByClip, true, &failing);
    for (_, report) in &failing {
        let finding = report.of_kind(FindingKind::ZeroedByClip).next().unwrap();
        assert!(
            finding.measured > 0.5 && finding.advice.contains("huber"),
            "{report}"
        );
    }
    silent(&run(Loss::Huber, 10.0));
    // A near miss: a clip whose range holds every error zeroes nothing.
    let wide: Vec<_> = SEEDS
        .map(|seed| (seed, q_learning(Loss::WideClip, 10.0, seed)))
        .collect();
    silent(&wide);
}

#[test]
fn non_finite_fires_on_a_nan_batch_and_names_the_step() {
    for seed in SEEDS {
        let mut data = digits_data(true);
        let mut model = relu_mlp(seed);
        let healthy = doctor(&mut model, &mut Adam::new(0.005), &data, 1, seed);
        assert!(
            healthy.of_kind(FindingKind::NonFinite).next().is_none(),
            "{healthy}"
        );
        data.features[[(seed as usize * 37) % 1797, 5]] = f32::NAN;
        let report = doctor(&mut model, &mut Adam::new(0.005), &data, 1, seed);
        let finding = report
            .of_kind(FindingKind::NonFinite)
            .next()
            .expect("a NaN batch is found");
        assert_eq!(finding.measured, 1.0, "one batch holds the NaN: {report}");
        assert!(finding.step >= 1 && finding.step <= report.steps);
    }
}

#[test]
fn update_ratio_fires_on_learning_rates_far_too_high_or_too_low() {
    let data = digits_data(true);
    let run = |lr: f64| -> Vec<(u64, Report)> {
        SEEDS
            .map(|seed| {
                (
                    seed,
                    doctor(&mut relu_mlp(seed), &mut Sgd::new(lr), &data, 1, seed),
                )
            })
            .collect()
    };
    // (A ReLU network at such a rate dies at once, and dead units do not move.)
    let too_high: Vec<_> = SEEDS
        .map(|seed| {
            (
                seed,
                doctor(
                    &mut squashing_mlp("tanh", false, seed),
                    &mut Sgd::new(2.0),
                    &data,
                    1,
                    seed,
                ),
            )
        })
        .collect();
    expect(FindingKind::UpdateRatio, true, &too_high);
    assert!(
        too_high
            .iter()
            .all(|(_, r)| r.of_kind(FindingKind::UpdateRatio).all(|f| f.above))
    );
    let too_low = run(1e-7);
    expect(FindingKind::UpdateRatio, true, &too_low);
    assert!(
        too_low
            .iter()
            .all(|(_, r)| r.of_kind(FindingKind::UpdateRatio).all(|f| !f.above))
    );
    expect(FindingKind::UpdateRatio, false, &run(0.05));
}

#[test]
fn the_json_report_follows_the_documented_schema() {
    let mut model = squashing_mlp("sigmoid", true, 0);
    let report = doctor(
        &mut model,
        &mut Momentum::new(0.05),
        &digits_data(false),
        1,
        0,
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["schema"], "backprop.doctor/1");
    assert_eq!(json["steps"], report.steps);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), report.findings.len());
    let first = &findings[0];
    assert_eq!(first["kind"], "saturation");
    assert_eq!(first["subject"], "act");
    assert_eq!(first["direction"], "above");
    assert!(first["measured"].as_f64().unwrap() > first["threshold"].as_f64().unwrap());
    for key in ["step", "what", "advice"] {
        assert!(!first[key].is_null(), "{key} is missing: {first}");
    }
    // The table says the same.
    let table = report.to_string();
    assert!(
        table.contains("saturation") && table.contains("act") && table.contains("advice:"),
        "{table}"
    );
}

#[test]
fn plots_are_well_formed_svg() {
    let mut model = relu_mlp(0);
    doctor(&mut model, &mut Adam::new(0.005), &digits_data(true), 1, 0);
    let mut rnn = rnn_on_adding(1.0, 2, 0);
    let dir = std::env::temp_dir().join(format!("backprop-plots-{}", std::process::id()));
    let mut files = model.monitor().unwrap().write_plots(&dir).unwrap();
    files.extend(rnn.monitor_mut().unwrap().write_plots(&dir).unwrap());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "activations_relu.svg",
        "gradient_norms.svg",
        "through_time_rnn.svg",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
            "{}",
            file.display()
        );
        assert!(
            text.contains("<path") || text.contains("<rect") || text.contains("<polyline"),
            "{}",
            file.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = Array3::<f32>::zeros((1, 1, 1));
}

#[test]
fn units_dead_from_the_start_are_found_within_a_few_steps() {
    let data = digits_data(true);
    let rows = backprop::ndarray::Slice::from(..64);
    let x = data
        .features
        .slice_axis(backprop::ndarray::Axis(0), rows)
        .to_owned();
    let labels = data
        .labels
        .slice_axis(backprop::ndarray::Axis(0), rows)
        .to_owned();
    for seed in SEEDS {
        let mut model = relu_mlp(seed);
        // A bias far below what the inputs can reach: every unit is negative.
        model.visit_params(&mut |mut p| {
            if p.name == "fc1.b" {
                p.value.fill(-10.0);
            }
        });
        model.set_monitor(Monitor::default());
        let mut sgd = Sgd::new(0.01);
        for _ in 0..3 {
            train_step(
                &mut model,
                &mut sgd,
                &x,
                Target::Classes(labels.view()),
                None,
            );
        }
        let report = model.monitor().unwrap().report();
        let finding = report.of_kind(FindingKind::DeadRelu).next();
        assert!(
            finding.is_some_and(|f| f.measured == 1.0),
            "seed {seed}\n{report}"
        );
    }
}
