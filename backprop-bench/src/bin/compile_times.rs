//! What `#[differentiable]` costs at compile time: builds a crate of `--layers`
//! small layers three ways and times rustc on it, with its dependencies already
//! built (they are the same for all three):
//!
//! - `macro`: each layer one `#[differentiable]` function, as a user writes it;
//! - `expanded`: the same crate with the macro's output pasted in (what the
//!   macro generates, without running it);
//! - `hand`: each layer's forward, training forward and backward written by hand
//!   in ndarray, the practical minimum of code.
//!
//! For each it prints the full build of the crate (release, non-incremental:
//! what a clean build pays per crate), an incremental rebuild after editing one
//! layer (dev profile, as while writing code), and the release time per layer
//! above an empty crate. Every crate also instantiates each layer for `f32`, as
//! a user's crate does, so that the generated code is compiled, not only checked.
//!
//! Run with `cargo run --release -p backprop-bench --bin compile_times`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser)]
#[command(
    about = "What #[differentiable] costs at compile time, against the same layers pasted in and written by hand."
)]
struct Args {
    /// Layers in each crate.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u16).range(1..))]
    layers: u16,
    /// Timed builds per measurement (the median is printed).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    repeats: u16,
    /// Where the crates are written and built (their target directory is shared,
    /// so dependencies are built once).
    #[arg(long, default_value = "target/compile-times")]
    dir: PathBuf,
}

/// The kinds of crate compared.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Empty,
    Macro,
    Expanded,
    Hand,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Empty => "empty",
            Kind::Macro => "macro",
            Kind::Expanded => "expanded",
            Kind::Hand => "hand",
        }
    }
}

/// Layer `k` as a user writes it; `scale` is what the incremental build edits.
fn differentiable_layer(k: usize, scale: &str) -> String {
    format!(
        "/// Layer {k}: a dense layer with a tanh and a scaled skip connection.
#[differentiable]
pub fn layer_{k}<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {{
    let z = x.dot(&w) + &b;
    tanh(z) + x.dot(&w) * {scale}
}}
"
    )
}

/// Layer `k` written by hand: the forward, the training forward and its saved
/// values, and the backward.
fn hand_layer(k: usize, scale: &str) -> String {
    format!(
        "/// Layer {k}: a dense layer with a tanh and a scaled skip connection.
pub fn layer_{k}<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {{
    layer_{k}_train(x, w, b).0
}}

/// What the backward of layer {k} needs.
pub struct Layer{k}Saved<T> {{
    x: Array2<T>,
    w: Array2<T>,
    t: Array2<T>,
}}

/// The training forward of layer {k}.
pub fn layer_{k}_train<T: Real>(
    x: ArrayView2<T>,
    w: ArrayView2<T>,
    b: ArrayView1<T>,
) -> (Array2<T>, Layer{k}Saved<T>) {{
    let xw = x.dot(&w);
    let t = (&xw + &b).mapv(|v| v.tanh());
    let out = Zip::from(&t).and(&xw).map_collect(|&t, &xw| t + xw * T::lit({scale}));
    let saved = Layer{k}Saved {{ x: x.to_owned(), w: w.to_owned(), t }};
    (out, saved)
}}

/// The backward of layer {k}: the gradients of `x`, `w` and `b`.
pub fn layer_{k}_backward<T: Real>(
    s: &Layer{k}Saved<T>,
    d_out: ArrayView2<T>,
) -> (Array2<T>, Array2<T>, Array1<T>) {{
    let d_z = Zip::from(&d_out).and(&s.t).map_collect(|&g, &t| g * (T::one() - t * t));
    let d_xw = Zip::from(&d_z).and(&d_out).map_collect(|&dz, &g| dz + g * T::lit({scale}));
    let d_b = d_z.sum_axis(Axis(0));
    (d_xw.dot(&s.w.t()), s.x.t().dot(&d_xw), d_b)
}}
"
    )
}

/// A function that runs layer `k` forward and backward for `f32`, so that the
/// crate compiles its code (a generic function alone is only checked).
fn instantiate(k: usize, kind: Kind) -> String {
    let backward = match kind {
        Kind::Hand => format!(
            "let (d_x, d_w, d_b) = layer_{k}_backward(&saved, out.view());
    d_x.sum() + d_w.sum() + d_b.sum()"
        ),
        _ => format!(
            "let g = layer_{k}_backward(&saved, out.view());
    g.x.sum() + g.w.sum() + g.b.sum()"
        ),
    };
    format!(
        "/// Layer {k} forward and backward in `f32`.
pub fn step_{k}(x: &Array2<f32>, w: &Array2<f32>, b: &Array1<f32>) -> f32 {{
    let (out, saved) = layer_{k}_train(x.view(), w.view(), b.view());
    {backward}
}}
"
    )
}

/// The source of the crate: `layers` layers of `kind`, layer `edited` with
/// another constant (the incremental build's edit).
fn source(kind: Kind, layers: usize, edited: Option<usize>) -> String {
    // The empty crate reads `backprop` too, so that what loading its metadata
    // costs is not counted per layer.
    let mut s = String::from(
        "//! Generated by `compile_times`.\n#![allow(clippy::all, unused_imports)]\nuse backprop::prelude::*;\n",
    );
    if kind == Kind::Hand {
        s.push_str("use backprop::Real;\nuse ndarray::{Array1, Axis, Zip};\n");
    }
    let layers = if kind == Kind::Empty { 0 } else { layers };
    let mut user = String::new();
    for k in 0..layers {
        let scale = if edited == Some(k) { "0.25" } else { "0.5" };
        match kind {
            Kind::Hand => user.push_str(&hand_layer(k, scale)),
            _ => user.push_str(&differentiable_layer(k, scale)),
        }
    }
    if kind == Kind::Expanded {
        let expanded = backprop_dsl::expand_source(&user).expect("the layers expand");
        s.push_str(&expanded);
    } else {
        s.push_str(&user);
    }
    for k in 0..layers {
        s.push_str(&instantiate(k, kind));
    }
    s
}

fn write_crate(dir: &Path, kind: Kind, layers: usize, edited: Option<usize>) {
    let root = dir.join(kind.name());
    std::fs::create_dir_all(root.join("src")).expect("a directory for the crate");
    // The workspace root, wherever the program is run from.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("backprop-bench is in the workspace")
        .to_path_buf();
    let manifest = format!(
        "[package]
name = \"compile-times-{name}\"
version = \"0.0.0\"
edition = \"2024\"
publish = false

[dependencies]
backprop = {{ path = {backprop:?} }}
ndarray = \"0.17\"

[workspace]
",
        name = kind.name(),
        backprop = workspace.display().to_string(),
    );
    std::fs::write(root.join("Cargo.toml"), manifest).expect("the manifest is written");
    // The workspace's lock file: the same dependency versions, and no registry
    // lookup to resolve them.
    std::fs::copy(workspace.join("Cargo.lock"), root.join("Cargo.lock"))
        .expect("the workspace's Cargo.lock is copied");
    std::fs::write(root.join("src/lib.rs"), source(kind, layers, edited))
        .expect("the source is written");
}

/// Builds the crate of `kind` and returns how long cargo took.
fn build(dir: &Path, kind: Kind, release: bool) -> Duration {
    let root = dir.join(kind.name());
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("build").arg("-q").current_dir(&root);
    cmd.env(
        "CARGO_TARGET_DIR",
        dir.join("target").canonicalize().expect("the target dir"),
    );
    if release {
        cmd.arg("--release");
    }
    let start = Instant::now();
    let status = cmd.status().expect("cargo runs");
    let took = start.elapsed();
    assert!(status.success(), "the {} crate builds", kind.name());
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args = Args::parse();
    let (layers, repeats) = (usize::from(args.layers), usize::from(args.repeats));
    let dir = &args.dir;
    std::fs::create_dir_all(dir.join("target")).expect("the target directory");
    let kinds = [Kind::Empty, Kind::Macro, Kind::Expanded, Kind::Hand];
    for kind in kinds {
        write_crate(dir, kind, layers, None);
        // The dependencies, once per profile (the target directory is shared).
        build(dir, kind, true);
        build(dir, kind, false);
    }
    let mut release = Vec::new();
    let mut incremental = Vec::new();
    for kind in kinds {
        let full: Vec<Duration> = (0..repeats)
            .map(|r| {
                // A changed source each time: cargo then recompiles the crate
                // whole (release builds are not incremental).
                let mut src = source(kind, layers, None);
                src.push_str(&format!("\n// build {r}\n"));
                std::fs::write(dir.join(kind.name()).join("src/lib.rs"), src)
                    .expect("the source is written");
                build(dir, kind, true)
            })
            .collect();
        release.push(median(full));
        let edits: Vec<Duration> = (0..repeats)
            .map(|r| {
                write_crate(dir, kind, layers, None);
                build(dir, kind, false);
                // Edit one layer (a constant in its body), then rebuild.
                let edited = (r * 7) % layers;
                write_crate(dir, kind, layers, Some(edited));
                build(dir, kind, false)
            })
            .collect();
        incremental.push(median(edits));
    }
    let empty = release[0].as_secs_f64();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## What `#[differentiable]` costs at compile time\n\n{} layers per crate (a dense layer with a tanh and a skip connection, each instantiated for `f32`); dependencies prebuilt; median of {} builds; `cargo build` wall time.\n",
        layers, repeats
    );
    let _ = writeln!(
        out,
        "| crate | release build of the crate s | per layer ms | incremental rebuild after editing one layer (dev) s |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: |");
    for (i, kind) in kinds.iter().enumerate() {
        let per_layer = if *kind == Kind::Empty {
            "-".to_string()
        } else {
            format!(
                "{:.0}",
                (release[i].as_secs_f64() - empty) * 1e3 / layers as f64
            )
        };
        let _ = writeln!(
            out,
            "| {} | {:.2} | {} | {:.2} |",
            kind.name(),
            release[i].as_secs_f64(),
            per_layer,
            incremental[i].as_secs_f64()
        );
    }
    print!("{out}");
}
