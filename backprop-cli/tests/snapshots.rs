//! Snapshots of `backprop expand` and `backprop math` over the layer zoo: the
//! `#[differentiable]` functions of `backprop-core/src/layers/*.rs` and
//! `backprop-core/src/losses.rs`, through the tool's library functions.
//! Expected outputs are in `tests/snapshots/`; a changed output is written
//! beside its snapshot as `NAME.new` for review. Run with `BLESS=1` to accept
//! a change after reading it.

use std::path::{Path, PathBuf};

use backprop_cli::{SourceFile, expand, math};

/// The zoo's files, relative to the workspace root.
const ZOO: &[&str] = &[
    "backprop-core/src/layers/activation.rs",
    "backprop-core/src/layers/affine_layer.rs",
    "backprop-core/src/layers/conv.rs",
    "backprop-core/src/layers/dropout_layer.rs",
    "backprop-core/src/layers/embedding_layer.rs",
    "backprop-core/src/layers/normalization.rs",
    "backprop-core/src/layers/recurrent.rs",
    "backprop-core/src/losses.rs",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The zoo file `rel`, read with its relative path (so no output names a
/// machine's directories), and the snapshot stem it is kept under.
fn zoo_file(rel: &str) -> (SourceFile, String) {
    let text = std::fs::read_to_string(workspace().join(rel)).expect("a zoo file");
    let stem = rel
        .trim_start_matches("backprop-core/src/")
        .trim_end_matches(".rs")
        .replace('/', "_");
    (SourceFile::new(rel, &text), stem)
}

/// Compares `make(file)` with `snapshots/STEM.SUFFIX` for every zoo file.
fn compare(suffix: &str, make: fn(&SourceFile) -> String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let bless = std::env::var_os("BLESS").is_some();
    let mut stale = Vec::new();
    for rel in ZOO {
        let (file, stem) = zoo_file(rel);
        let made = make(&file);
        let snapshot = dir.join(format!("{stem}.{suffix}"));
        let new = dir.join(format!("{stem}.{suffix}.new"));
        match std::fs::read_to_string(&snapshot) {
            Ok(old) if old == made => {
                let _ = std::fs::remove_file(&new);
            }
            _ if bless => {
                std::fs::write(&snapshot, &made).expect("a writable snapshot");
                let _ = std::fs::remove_file(&new);
            }
            _ => {
                std::fs::write(&new, &made).expect("writable");
                stale.push(stem);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{suffix} changed for {stale:?}: compare each STEM.{suffix} with STEM.{suffix}.new in \
         backprop-cli/tests/snapshots, then run `BLESS=1 cargo test -p backprop-cli --test snapshots` to accept"
    );
}

#[test]
fn expand_matches_the_reviewed_snapshots() {
    compare("expand.txt", |file| {
        let (out, _warnings) =
            expand::expand_file(file, None, expand::Options::default()).expect("the zoo compiles");
        out
    });
}

#[test]
fn math_matches_the_reviewed_snapshots() {
    compare("math.txt", |file| {
        math::math_file(file, None).expect("the zoo compiles").0
    });
}

/// The zoo compiles without a warning, and every item is found.
#[test]
fn the_zoo_has_no_warnings_and_every_item_is_found() {
    let mut items = 0;
    for rel in ZOO {
        let (file, _) = zoo_file(rel);
        let (_, warnings) =
            expand::expand_file(&file, None, expand::Options::default()).expect("compiles");
        assert!(warnings.is_empty(), "{rel}:\n{warnings}");
        let marked = file
            .text
            .lines()
            .filter(|l| l.trim_start().starts_with("#[differentiable"))
            .count();
        let found = file.items().expect("parses").len();
        assert_eq!(found, marked, "{rel}");
        items += found;
    }
    assert!(items >= 20, "{items} items");
}

/// `--ir` prints the IR after differentiation and after every pass, in order.
#[test]
fn ir_is_printed_after_every_pass() {
    let (file, _) = zoo_file("backprop-core/src/layers/affine_layer.rs");
    let (out, _) =
        expand::expand_file(&file, Some("affine"), expand::Options { ir: true }).expect("compiles");
    let mut at = 0;
    for pass in
        std::iter::once("differentiation").chain(backprop_dsl::opt::PIPELINE.iter().map(|p| p.name))
    {
        let header = format!("-- IR after {pass}:");
        let found = out[at..]
            .find(&header)
            .unwrap_or_else(|| panic!("no `{header}` after byte {at} in\n{out}"));
        at += found + header.len();
    }
}

/// The memory plan writes shapes in terms of the inputs' dimensions, splits
/// bytes per sample from fixed bytes, and totals them.
#[test]
fn the_memory_plan_of_affine() {
    let (file, _) = zoo_file("backprop-core/src/layers/affine_layer.rs");
    let (out, _) =
        expand::expand_file(&file, Some("affine"), expand::Options::default()).expect("compiles");
    let plan: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("-- saved by _train"))
        .take_while(|l| !l.starts_with("-- backward"))
        .collect();
    let row = |field: &str| {
        plan.iter()
            .find(|l| l.split_whitespace().next() == Some(field))
            .unwrap_or_else(|| panic!("no row `{field}` in\n{}", plan.join("\n")))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(row("x").contains("[x.0, x.1] 4 * x.1 -"), "{}", row("x"));
    // `w.0` is `x.1`: the product makes them one axis, named after the first input's.
    assert!(
        row("w").contains("[x.1, w.1] - 4 * w.1 * x.1"),
        "{}",
        row("w")
    );
    assert!(row("b_shape").contains("[w.1] - 8"), "{}", row("b_shape"));
    assert!(
        row("total").starts_with("total 4 * x.1 4 * w.1 * x.1 + 40"),
        "{}",
        row("total")
    );
}
