//! Checkpoints in PyTorch's layout, against files written by the Python
//! `safetensors` package (`tests/fixtures/make_torch_linear.py` made them).

use std::path::PathBuf;

use backprop_core::checkpoint::torch::{load_torch, save_torch};
use backprop_core::checkpoint::{CheckpointError, LoadOptions, read_tensors};
use backprop_core::layers::{Affine, Relu};
use backprop_core::model::Sequential;
use backprop_core::{Real, SeededRng};
use ndarray::{Array2, Ix2};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `fc1 = nn.Linear(3, 4)`, ReLU, `fc2 = nn.Linear(4, 2)`, with other weights.
fn model<T: Real>() -> Sequential<T> {
    let mut rng = SeededRng::new(0);
    let mut model = Sequential::new();
    model
        .push("fc1", Affine::new(3, 4, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(4, 2, &mut rng));
    model
}

/// The fixture's input and PyTorch's output for it (computed in float64 by the script).
fn io() -> (Array2<f64>, Array2<f64>) {
    let bytes = std::fs::read(fixture("torch_linear_io.safetensors")).unwrap();
    let file = read_tensors(&bytes).unwrap();
    let get = |name: &str| {
        let t = file.tensors.iter().find(|t| t.name == name).unwrap();
        t.to_array::<f64>()
            .unwrap()
            .into_dimensionality::<Ix2>()
            .unwrap()
    };
    (get("x"), get("y"))
}

#[test]
fn a_pytorch_state_dict_loads_and_computes_what_pytorch_computes() {
    let mut m = model::<f64>();
    load_torch(
        &fixture("torch_linear.safetensors"),
        &mut m,
        &LoadOptions::default(),
    )
    .unwrap();
    // `fc1.weight` is [out, in]; ours is its transpose.
    let fc1 = m.get::<Affine<f64>>("fc1").unwrap();
    assert_eq!(fc1.w.value.dim(), (3, 4));
    assert_eq!(fc1.w.value[[2, 0]], f64::from((2.0f32 - 5.5) / 7.0));
    let (x, y) = io();
    let out: Array2<f64> = m.forward_as(&x);
    let diff = (&out - &y).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
    assert!(diff < 1e-12, "{out} vs PyTorch's {y}");
}

#[test]
fn an_f32_model_exports_the_bytes_the_python_package_writes() {
    let mut m = model::<f32>();
    let path = fixture("torch_linear.safetensors");
    load_torch(&path, &mut m, &LoadOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("backprop-torch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("exported.safetensors");
    save_torch(&out, &mut m).unwrap();
    let (ours, theirs) = (std::fs::read(&out).unwrap(), std::fs::read(&path).unwrap());
    let file = read_tensors(&ours).unwrap();
    let names: Vec<(&str, &[usize])> = file
        .tensors
        .iter()
        .map(|t| (t.name.as_str(), &t.shape[..]))
        .collect();
    assert!(names.contains(&("fc1.weight", &[4, 3][..])), "{names:?}");
    assert!(names.contains(&("fc2.bias", &[2][..])), "{names:?}");
    assert_eq!(
        ours, theirs,
        "the exported file differs from the one Python wrote"
    );
    // And it loads back into a fresh model.
    let mut back = model::<f32>();
    load_torch(&out, &mut back, &LoadOptions::default()).unwrap();
    let (x, _) = io();
    let x = x.mapv(|v| v as f32);
    assert_eq!(back.forward_as::<Ix2>(&x), m.forward_as::<Ix2>(&x));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_state_dict_of_another_model_is_an_error_in_the_files_names_and_changes_nothing() {
    // fc2 of another width: PyTorch's shape [3, 4] against the file's [2, 4].
    let mut rng = SeededRng::new(1);
    let mut m = Sequential::<f64>::new();
    m.push("fc1", Affine::new(3, 4, &mut rng))
        .push("relu", Relu::new())
        .push("fc2", Affine::new(4, 3, &mut rng));
    let before = m.get::<Affine<f64>>("fc1").unwrap().w.value.clone();
    let error = load_torch(
        &fixture("torch_linear.safetensors"),
        &mut m,
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, CheckpointError::WrongShape { name, expected, found }
            if name == "fc2.weight" && expected == &[3, 4] && found == &[2, 4]),
        "{error}"
    );
    assert_eq!(m.get::<Affine<f64>>("fc1").unwrap().w.value, before);
    // A model without fc2: the file's fc2 tensors are unexpected.
    let mut small = Sequential::<f64>::new();
    small.push("fc1", Affine::new(3, 4, &mut rng));
    let error = load_torch(
        &fixture("torch_linear.safetensors"),
        &mut small,
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, CheckpointError::UnexpectedTensor(ref n) if n.starts_with("fc2.")),
        "{error}"
    );
}
