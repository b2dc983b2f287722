//! The training loop of the examples on a small part of the digits: reproducible to
//! the bit, learning, and resumable from a checkpoint as if never interrupted.

use std::path::PathBuf;

use backprop::data::{DIGITS_MAX_PIXEL, Dataset, digits};
use backprop::layers::{Affine, Relu};
use backprop::model::Sequential;
use backprop::optim::{Adam, Optimizer};
use backprop::train::{
    EpochOptions, EpochStats, evaluate, load_training_checkpoint, save_training_checkpoint,
    shuffle_rng, train_epoch,
};
use backprop::{Parameters, SeededRng};

/// 300 digits (stratified), pixels in `[0, 1]`.
fn small_digits() -> Dataset<f32> {
    let data = digits::<f32>().divide_features(f32::from(DIGITS_MAX_PIXEL));
    // The "test" part of a split is a stratified sample of the requested size.
    data.split(300.0 / 1797.0, 5).test
}

fn mlp(seed: u64) -> Sequential<f32> {
    let mut rng = SeededRng::new(seed);
    let mut model = Sequential::new();
    model
        .push("fc1", Affine::new(64, 32, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(32, 10, &mut rng));
    model
}

/// Every parameter's bits, in order.
fn bits(model: &mut Sequential<f32>) -> Vec<u32> {
    let mut all = Vec::new();
    model.visit_params(&mut |p| all.extend(p.value.iter().map(|v| v.to_bits())));
    all
}

/// Epochs `from..to` of a run with seed `seed`.
fn epochs(
    model: &mut Sequential<f32>,
    optimizer: &mut Adam<f32>,
    data: &Dataset<f32>,
    seed: u64,
    from: u64,
    to: u64,
) -> Vec<EpochStats> {
    let options = EpochOptions::new(32).clip_norm(5.0);
    (from..to)
        .map(|epoch| {
            train_epoch(
                model,
                optimizer,
                &data.features,
                &data.labels,
                &options,
                &mut shuffle_rng(seed, epoch),
                &mut |_| {},
            )
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_parameters_and_the_loss_decreases() {
    let data = small_digits();
    assert_eq!(data.len(), 300);
    let run = |seed: u64| {
        let mut model = mlp(seed);
        let mut optimizer = Adam::new(0.005);
        let before = evaluate(&model, &data.features, &data.labels, 100);
        let stats = epochs(&mut model, &mut optimizer, &data, seed, 0, 4);
        let after = evaluate(&model, &data.features, &data.labels, 100);
        (bits(&mut model), before, stats, after)
    };
    let (params, before, stats, after) = run(1);
    let (again, ..) = run(1);
    assert!(params == again, "the same seed gave different parameters");
    let (other, ..) = run(2);
    assert!(params != other, "another seed gave the same parameters");

    assert_eq!((stats[0].examples, stats[0].batches), (300, 10));
    assert!(
        stats.windows(2).all(|w| w[1].loss < w[0].loss),
        "the running loss does not decrease every epoch: {stats:#?}"
    );
    assert!(after.loss < before.loss / 2.0, "{before:?} -> {after:?}");
    assert!(after.accuracy > 0.8, "{after:?}");
}

/// A file in the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn resuming_from_a_checkpoint_continues_bit_identically() {
    let data = small_digits();
    let seed = 3;

    // Uninterrupted: four epochs.
    let mut model = mlp(seed);
    let mut optimizer = Adam::new(0.005);
    let straight = epochs(&mut model, &mut optimizer, &data, seed, 0, 4);

    // Interrupted: two epochs, a checkpoint, and two more in a fresh process's worth
    // of state (another initialization, a new optimizer) restored from the file.
    let file = TempFile(std::env::temp_dir().join(format!(
        "backprop-resume-{}.safetensors",
        std::process::id()
    )));
    let mut first = mlp(seed);
    let mut first_optimizer = Adam::new(0.005);
    epochs(&mut first, &mut first_optimizer, &data, seed, 0, 2);
    let metadata = [("epoch".to_string(), "2".to_string())].into();
    save_training_checkpoint(&file.0, &mut first, &first_optimizer, &metadata).unwrap();
    drop((first, first_optimizer));

    let mut resumed = mlp(seed + 100);
    let mut resumed_optimizer = Adam::new(0.005);
    let read = load_training_checkpoint(&file.0, &mut resumed, &mut resumed_optimizer).unwrap();
    assert_eq!(read, metadata);
    let next: u64 = read["epoch"].parse().unwrap();
    let rest = epochs(&mut resumed, &mut resumed_optimizer, &data, seed, next, 4);

    assert!(
        bits(&mut model) == bits(&mut resumed),
        "the resumed run's parameters differ from the uninterrupted run's"
    );
    assert_eq!(rest, straight[2..]);
    assert_eq!(resumed_optimizer.state(), optimizer.state());

    // Without the optimizer's state the continuation differs: the test has teeth.
    let mut forgetful = mlp(seed + 100);
    let mut fresh = Adam::new(0.005);
    load_training_checkpoint(&file.0, &mut forgetful, &mut Adam::new(0.005)).unwrap();
    epochs(&mut forgetful, &mut fresh, &data, seed, 2, 4);
    assert!(bits(&mut forgetful) != bits(&mut model));
}
