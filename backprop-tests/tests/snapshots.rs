//! Snapshots of generated code. Each `tests/expand/NAME.rs` is expanded by the
//! compiler (no rustc involved) and compared with `tests/expand/NAME.expanded.rs`,
//! and its IR after the passes with `NAME.ir.txt`, so a change to a derivative
//! rule, a pass or emission shows up as a diff in review.
//! Run with `BLESS=1` to accept a change after reading it.
//!
//! The inputs are also compiled as modules below, and their gradients checked,
//! so a snapshot always shows code that compiles and is right.

use std::path::{Path, PathBuf};

use backprop::{DynValue, GradCheck, SeededRng, check_function};
use ndarray::{ArrayD, IxDyn, array};

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(mod $name { include!(concat!("expand/", stringify!($name), ".rs")); })*
        const CASES: &[&str] = &[$(stringify!($name)),*];
    };
}

cases!(
    affine_relu,
    attention,
    batchnorm_forward,
    broadcasting,
    check_option,
    conv_block,
    custom_backward,
    dqn_huber_loss,
    elementwise_chain,
    embedding_mean,
    gru_from_calls,
    layernorm,
    lstm_cell,
    rnn_step,
    softmax_cross_entropy,
    svm_hinge,
);

fn expand_file(path: &Path) -> String {
    let src = std::fs::read_to_string(path).expect("readable case");
    backprop_dsl::expand_source(&src).expect("a valid Rust file")
}

/// Compares `make(case)` with `tests/expand/NAME.SUFFIX` for every case.
fn compare_snapshots(suffix: &str, make: fn(&Path) -> String) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let bless = std::env::var_os("BLESS").is_some();
    let mut stale = Vec::new();
    for name in CASES {
        let made = make(&dir.join(format!("{name}.rs")));
        let snapshot = dir.join(format!("{name}.{suffix}"));
        match std::fs::read_to_string(&snapshot) {
            Ok(old) if old == made => {}
            _ if bless => std::fs::write(&snapshot, &made).expect("writable snapshot"),
            _ => {
                std::fs::write(dir.join(format!("{name}.{suffix}.new")), &made).expect("writable");
                stale.push(*name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{suffix} changed for {stale:?}: compare each NAME.{suffix} with NAME.{suffix}.new \
         in tests/expand, then run `BLESS=1 cargo test --test snapshots` to accept"
    );
}

#[test]
fn generated_code_matches_the_reviewed_snapshots() {
    compare_snapshots("expanded.rs", expand_file);
}

/// The IR after the pass pipeline, beside the code emitted from it.
#[test]
fn the_ir_matches_the_reviewed_snapshots() {
    compare_snapshots("ir.txt", |path| {
        let src = std::fs::read_to_string(path).expect("readable case");
        backprop_dsl::ir_source(&src).expect("a valid Rust file")
    });
}

fn random(shape: &[usize], rng: &mut SeededRng) -> DynValue<f64> {
    DynValue::Float(ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        rng.uniform_in(-1.0, 1.0)
    }))
}

#[test]
fn the_snapshot_cases_have_correct_gradients() {
    let mut rng = SeededRng::new(9);
    let mut r = |shape: &[usize]| random(shape, &mut rng);
    let ids = DynValue::Int(array![1usize, 0, 2, 1].into_dyn());
    let checks = vec![
        (
            affine_relu::affine_relu_dyn(),
            vec![r(&[4, 3]), r(&[3, 5]), r(&[5])],
        ),
        (
            attention::attention_dyn(),
            vec![
                r(&[3, 4]),
                r(&[5, 4]),
                r(&[5, 2]),
                DynValue::Float(ndarray::arr0(0.5).into_dyn()),
            ],
        ),
        (
            batchnorm_forward::batchnorm_forward_dyn(),
            vec![r(&[6, 3]), r(&[3]), r(&[3])],
        ),
        (
            broadcasting::broadcasting_dyn(),
            vec![r(&[3, 4]), r(&[4]), r(&[3, 1]), r(&[])],
        ),
        (check_option::loss_dyn(), vec![r(&[4, 3]), ids.clone()]),
        (conv_block::conv_block_dyn(), {
            // Distinct values keep the pooling windows away from ties.
            let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 4, 4]), |i| {
                ((i[1] * 16 + i[2] * 4 + i[3]) as f64 * 0.61) % 3.0 - 1.0
            });
            vec![DynValue::Float(x), r(&[2, 2, 3, 3]), r(&[2])]
        }),
        (
            custom_backward::scale_dyn(),
            vec![r(&[4, 3]), DynValue::Float(ndarray::arr0(0.7).into_dyn())],
        ),
        (
            dqn_huber_loss::dqn_huber_loss_dyn(),
            vec![
                r(&[4, 3]),
                r(&[3, 5]),
                r(&[5]),
                r(&[5, 3]),
                r(&[3]),
                ids.clone(),
                DynValue::Float(array![3.0, -2.0, 0.1, 0.4].into_dyn()),
            ],
        ),
        (elementwise_chain::elementwise_chain_dyn(), vec![r(&[3, 4])]),
        (
            embedding_mean::embedding_mean_dyn(),
            vec![r(&[3, 4]), ids.clone(), r(&[4])],
        ),
        (gru_from_calls::gru_step_dyn(), {
            let (x, h) = (r(&[2, 3]), r(&[2, 4]));
            let mut inputs = vec![x, h];
            for _ in 0..3 {
                inputs.extend([r(&[3, 4]), r(&[4, 4]), r(&[4])]);
            }
            inputs
        }),
        (
            layernorm::layernorm_dyn(),
            vec![r(&[3, 5]), r(&[5]), r(&[5])],
        ),
        (
            lstm_cell::lstm_cell_dyn(),
            vec![
                r(&[2, 3]),
                r(&[2, 2]),
                r(&[2, 2]),
                r(&[3, 8]),
                r(&[2, 8]),
                r(&[8]),
            ],
        ),
        (
            rnn_step::rnn_step_dyn(),
            vec![r(&[2, 3]), r(&[2, 4]), r(&[3, 4]), r(&[4, 4]), r(&[4])],
        ),
        (
            softmax_cross_entropy::softmax_cross_entropy_dyn(),
            vec![r(&[4, 3]), ids.clone()],
        ),
        (svm_hinge::svm_hinge_dyn(), vec![r(&[4, 3]), ids]),
    ];
    assert_eq!(
        checks.len(),
        CASES.len(),
        "every snapshot case is gradient-checked"
    );
    for (f, inputs) in checks {
        let report = check_function(&f, &inputs, &GradCheck::default());
        assert!(report.passed(), "{report}");
    }
}
