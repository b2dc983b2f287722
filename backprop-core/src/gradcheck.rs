//! Numeric gradient checking: central differences in `f64` against the generated
//! backward pass, with the relative error `|a - n| / max(1e-8, |a| + |n|)`.
//!
//! Outputs are reduced to a scalar with a fixed random projection, `L = sum(out * r)`,
//! so every element of every output takes part; the analytic gradient is the backward
//! pass run with upstream gradient `r`.

use std::fmt;

use ndarray::{Array, ArrayD, Dimension, IxDyn};

use crate::function::{DynFunction, DynValue, InputKind};
use crate::{Layer, Parameters, SeededRng};

/// Settings of a gradient check.
#[derive(Clone, Copy, Debug)]
pub struct GradCheck {
    /// Step of the five-point central difference (it also evaluates at twice the step).
    pub eps: f64,
    /// Largest relative error that passes.
    pub tolerance: f64,
    /// Seed of the random projection of the outputs.
    pub seed: u64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            eps: 1e-4,
            tolerance: 1e-7,
            seed: 0x5eed,
        }
    }
}

/// The result for one input or parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The input or parameter name.
    pub name: String,
    /// The largest relative error over its elements.
    pub max_rel_error: f64,
    /// Index of the element with that error.
    pub worst_index: Vec<usize>,
    /// The analytic gradient there.
    pub analytic: f64,
    /// The numeric gradient there.
    pub numeric: f64,
    /// Number of elements checked.
    pub checked: usize,
}

/// The result of a gradient check: one entry per differentiable input or parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// What was checked.
    pub subject: String,
    /// One entry per input or parameter.
    pub entries: Vec<Entry>,
    /// The tolerance used.
    pub tolerance: f64,
}

impl Report {
    /// Whether every entry is within the tolerance.
    pub fn passed(&self) -> bool {
        self.entries
            .iter()
            .all(|e| e.max_rel_error <= self.tolerance)
    }

    /// The entry with the largest error.
    pub fn worst(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .max_by(|a, b| a.max_rel_error.total_cmp(&b.max_rel_error))
    }

    /// Panics with the report unless it passed.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        writeln!(
            f,
            "gradient check of `{}` {verdict} (tolerance {:e})",
            self.subject, self.tolerance
        )?;
        for e in &self.entries {
            let mark = if e.max_rel_error <= self.tolerance {
                "ok  "
            } else {
                "FAIL"
            };
            writeln!(
                f,
                "  {mark} {:<12} max rel error {:.3e} at {:?}: analytic {:.10e}, numeric {:.10e} ({} elements)",
                e.name, e.max_rel_error, e.worst_index, e.analytic, e.numeric, e.checked
            )?;
        }
        Ok(())
    }
}

/// The relative error used throughout: `|a - n| / max(1e-8, |a| + |n|)`.
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / (analytic.abs() + numeric.abs()).max(1e-8)
}

fn random_like<D: Dimension>(shape: D, rng: &mut SeededRng) -> Array<f64, D> {
    Array::from_shape_simple_fn(shape, || rng.normal())
}

/// Compares an analytic gradient with central differences over every element of
/// `value`. `bump` returns the outputs for the perturbed value. The estimate is the
/// five-point central difference `(8 D(h) - D(2h)) / 12h` with
/// `D(h) = sum((out(x+h) - out(x-h)) * r)`: differences are taken before summing, so outputs the bump did
/// not change cancel exactly, and the fourth-order stencil allows a step large
/// enough that rounding stays near 1e-12.
fn compare(
    name: &str,
    analytic: &ArrayD<f64>,
    value: &mut ArrayD<f64>,
    opts: &GradCheck,
    r: &[ArrayD<f64>],
    mut bump: impl FnMut(&ArrayD<f64>) -> Vec<ArrayD<f64>>,
) -> Entry {
    let mut entry = Entry::new(name);
    let shape = value.shape().to_vec();
    for k in 0..value.len() {
        let idx = IxDyn(&unravel(k, &shape));
        let original = value[&idx];
        let mut difference = |h: f64| {
            value[&idx] = original + h;
            let plus = bump(value);
            value[&idx] = original - h;
            let minus = bump(value);
            value[&idx] = original;
            plus.iter()
                .zip(&minus)
                .zip(r)
                .map(|((p, m), r)| ((p - m) * r).sum())
                .sum::<f64>()
        };
        let h = opts.eps;
        let numeric = (8.0 * difference(h) - difference(2.0 * h)) / (12.0 * h);
        let a = analytic.get(idx.clone()).copied().unwrap_or(f64::NAN);
        entry.record(idx.slice(), a, numeric);
    }
    entry
}

impl Entry {
    /// An entry with nothing checked yet.
    fn new(name: &str) -> Self {
        Entry {
            name: name.to_string(),
            max_rel_error: 0.0,
            worst_index: vec![],
            analytic: 0.0,
            numeric: 0.0,
            checked: 0,
        }
    }

    /// Counts one element, analytic value `a` against reference `n`, keeping the worst.
    fn record(&mut self, index: &[usize], a: f64, n: f64) {
        // A NaN anywhere is the worst possible error.
        let err = match relative_error(a, n) {
            e if e.is_nan() => f64::INFINITY,
            e => e,
        };
        if self.checked == 0 || err > self.max_rel_error {
            self.max_rel_error = err;
            self.worst_index = index.to_vec();
            self.analytic = a;
            self.numeric = n;
        }
        self.checked += 1;
    }
}

/// A random upstream gradient for each output of `f` on `inputs`, from `seed`:
/// the projection `L = sum(out * r)` every check differentiates.
fn upstream(f: &DynFunction<f64>, inputs: &[DynValue<f64>], seed: u64) -> Vec<ArrayD<f64>> {
    let mut rng = SeededRng::new(seed);
    (f.forward)(inputs)
        .iter()
        .map(|o| random_like(o.raw_dim(), &mut rng))
        .collect()
}

fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (slot, &len) in idx.iter_mut().zip(shape).rev() {
        *slot = k % len.max(1);
        k /= len.max(1);
    }
    idx
}

/// Checks every differentiable input of a generated function (use `name_dyn::<f64>()`).
///
/// # Panics
/// If `inputs` do not match the function's inputs (the message names the input).
pub fn check_function(f: &DynFunction<f64>, inputs: &[DynValue<f64>], opts: &GradCheck) -> Report {
    assert_eq!(
        inputs.len(),
        f.inputs.len(),
        "`{}` takes {} inputs, got {}",
        f.name,
        f.inputs.len(),
        inputs.len()
    );
    let r = upstream(f, inputs, opts.seed);
    let grads = (f.backward)(inputs, &r);
    let mut entries = Vec::new();
    for (i, spec) in f.inputs.iter().enumerate() {
        let InputKind::Float { grad: true, .. } = spec.kind else {
            continue;
        };
        let Some(analytic) = grads[i].as_ref() else {
            continue;
        };
        let DynValue::Float(value) = &inputs[i] else {
            continue;
        };
        let mut value = value.clone();
        let mut work = inputs.to_vec();
        let entry = compare(spec.name, analytic, &mut value, opts, &r, |v| {
            work[i] = DynValue::Float(v.clone());
            (f.forward)(&work)
        });
        entries.push(entry);
    }
    Report {
        subject: f.name.to_string(),
        entries,
        tolerance: opts.tolerance,
    }
}

/// For an item with a backward of the user's own (`backward = ..` in the
/// attribute): compares it with the backward the compiler derived, element by
/// element, on `inputs` and a random upstream gradient (relative error as for
/// finite differences). [`check_function`] compares it with finite differences.
///
/// # Panics
/// If `f` has no derived backward beside its own (no `backward = ..`), or as
/// [`check_function`].
pub fn check_against_derived(
    f: &DynFunction<f64>,
    inputs: &[DynValue<f64>],
    opts: &GradCheck,
) -> Report {
    let derived = f.derived_backward.unwrap_or_else(|| {
        panic!(
            "`{}` has no backward of its own to compare with the derived one",
            f.name
        )
    });
    let r = upstream(f, inputs, opts.seed);
    let (own, reference) = ((f.backward)(inputs, &r), derived(inputs, &r));
    let mut entries = Vec::new();
    for (i, spec) in f.inputs.iter().enumerate() {
        let (Some(a), Some(b)) = (&own[i], &reference[i]) else {
            continue;
        };
        assert_eq!(
            a.shape(),
            b.shape(),
            "the gradient of `{}` has shape {:?}, the derived one {:?}",
            spec.name,
            a.shape(),
            b.shape()
        );
        let mut entry = Entry::new(&format!("{} (against the derived backward)", spec.name));
        for ((idx, &x), &y) in a.indexed_iter().zip(b.iter()) {
            entry.record(idx.slice(), x, y);
        }
        entries.push(entry);
    }
    Report {
        subject: format!("{} (its own backward against the derived one)", f.name),
        entries,
        tolerance: opts.tolerance,
    }
}

/// For a declared `surrogate` backward, which differs from the derivative on
/// purpose: checks only that every gradient has its input's shape and is finite.
///
/// # Panics
/// With the input's name, if a gradient has another shape than its input or
/// holds a NaN or an infinity; or as [`check_function`].
#[track_caller]
pub fn assert_surrogate_shapes(f: &DynFunction<f64>, inputs: &[DynValue<f64>], seed: u64) {
    let grads = (f.backward)(inputs, &upstream(f, inputs, seed));
    for ((spec, grad), input) in f.inputs.iter().zip(&grads).zip(inputs) {
        let (Some(grad), DynValue::Float(value)) = (grad, input) else {
            continue;
        };
        assert_eq!(
            grad.shape(),
            value.shape(),
            "the surrogate backward of `{}` gives `{}` a gradient of shape {:?}, but the input has shape {:?}",
            f.name,
            spec.name,
            grad.shape(),
            value.shape()
        );
        let bad = grad.iter().filter(|v| !v.is_finite()).count();
        assert_eq!(
            bad, 0,
            "the surrogate backward of `{}` gives `{}` a gradient with {bad} non-finite elements",
            f.name, spec.name
        );
    }
}

/// A layer's input, output or input gradient as its float arrays, for
/// [`check_layer`]: a float array, integer ids or `()` (which have none), or
/// a tuple of them (a layer of several inputs, `(x, h)`, or outputs).
pub trait CheckParts: Sized {
    /// Each part in order: a float array, or `None` for ids and `()`.
    fn to_parts(&self) -> Vec<Option<ArrayD<f64>>>;
    /// How many parts [`CheckParts::to_parts`] gives (one for an array, ids or `()`).
    fn part_count(&self) -> usize {
        1
    }
    /// `self` with its float arrays replaced by `parts` (as `to_parts` orders them).
    ///
    /// # Panics
    /// If a part does not have the rank of the one it replaces.
    fn with_parts(&self, parts: &[Option<ArrayD<f64>>]) -> Self;
}

impl<D: Dimension> CheckParts for Array<f64, D> {
    fn to_parts(&self) -> Vec<Option<ArrayD<f64>>> {
        vec![Some(self.clone().into_dyn())]
    }
    fn with_parts(&self, parts: &[Option<ArrayD<f64>>]) -> Self {
        match parts.first() {
            Some(Some(p)) => p
                .clone()
                .into_dimensionality::<D>()
                .expect("the part's rank"),
            _ => self.clone(),
        }
    }
}

impl<D: Dimension> CheckParts for Array<usize, D> {
    fn to_parts(&self) -> Vec<Option<ArrayD<f64>>> {
        vec![None]
    }
    fn with_parts(&self, _: &[Option<ArrayD<f64>>]) -> Self {
        self.clone()
    }
}

impl CheckParts for () {
    fn to_parts(&self) -> Vec<Option<ArrayD<f64>>> {
        vec![None]
    }
    fn with_parts(&self, _: &[Option<ArrayD<f64>>]) -> Self {}
}

macro_rules! tuple_parts {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: CheckParts),+> CheckParts for ($($name,)+) {
            fn to_parts(&self) -> Vec<Option<ArrayD<f64>>> {
                let mut parts = Vec::new();
                $(parts.extend(self.$idx.to_parts());)+
                parts
            }
            fn part_count(&self) -> usize {
                0 $(+ self.$idx.part_count())+
            }
            // The last part's `at += n` is never read.
            #[allow(unused_assignments)]
            fn with_parts(&self, parts: &[Option<ArrayD<f64>>]) -> Self {
                let mut at = 0;
                ($({
                    let n = self.$idx.part_count();
                    let part = self.$idx.with_parts(&parts[at..at + n]);
                    at += n;
                    part
                },)+)
            }
        }
    };
}

tuple_parts!(A 0, B 1);
tuple_parts!(A 0, B 1, C 2);
tuple_parts!(A 0, B 1, C 2, D 3);
tuple_parts!(A 0, B 1, C 2, D 3, E 4);
tuple_parts!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Checks the input gradient (of every input, for a layer of several) and
/// every parameter gradient of a layer in training mode, against central
/// differences. The layer's training forward must be deterministic (reseed
/// stochastic layers, or check them in a mode without noise). Integer inputs
/// (an embedding's ids) are not perturbed.
pub fn check_layer<L>(layer: &mut L, x: &L::Input, opts: &GradCheck) -> Report
where
    L: Layer<f64>,
    L::Input: CheckParts,
    L::Output: CheckParts,
    L::InputGrad: CheckParts,
{
    let mut rng = SeededRng::new(opts.seed);
    let (out, saved) = layer.forward_train(x);
    // A random upstream gradient for every float part of the output.
    let r_parts: Vec<Option<ArrayD<f64>>> = out
        .to_parts()
        .into_iter()
        .map(|p| p.map(|p| random_like(p.raw_dim(), &mut rng)))
        .collect();
    let r_out = out.with_parts(&r_parts);
    layer.zero_grad();
    let d_x = layer.backward(saved, &r_out).to_parts();
    let floats = |parts: Vec<Option<ArrayD<f64>>>| parts.into_iter().flatten().collect::<Vec<_>>();
    let outputs = |layer: &mut L, x: &L::Input| floats(layer.forward_train(x).0.to_parts());
    let r = floats(r_parts);
    let mut entries = Vec::new();
    let x_parts = x.to_parts();
    for (i, (d, value)) in d_x.iter().zip(&x_parts).enumerate() {
        let (Some(d), Some(value)) = (d, value) else {
            continue;
        };
        let name = if x_parts.len() == 1 {
            "input".to_string()
        } else {
            format!("input {i}")
        };
        let mut v = value.clone();
        entries.push(compare(&name, d, &mut v, opts, &r, |v| {
            let mut parts = x_parts.clone();
            parts[i] = Some(v.clone());
            outputs(layer, &x.with_parts(&parts))
        }));
    }
    // Parameters: copy out values and gradients, then perturb through visit_params.
    let mut params: Vec<(String, ArrayD<f64>, ArrayD<f64>)> = Vec::new();
    layer.visit_params(&mut |p| {
        params.push((p.name.to_string(), p.value.to_owned(), p.grad.to_owned()))
    });
    for (k, (name, value, grad)) in params.iter().enumerate() {
        let mut v = value.clone();
        let entry = compare(name, grad, &mut v, opts, &r, |v| {
            set_param(layer, k, v);
            outputs(layer, x)
        });
        set_param(layer, k, value);
        entries.push(entry);
    }
    Report {
        subject: std::any::type_name::<L>().to_string(),
        entries,
        tolerance: opts.tolerance,
    }
}

fn set_param<T: Parameters<f64> + ?Sized>(layer: &mut T, k: usize, value: &ArrayD<f64>) {
    let mut i = 0;
    layer.visit_params(&mut |mut p| {
        if i == k {
            p.value.assign(value);
        }
        i += 1;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_error_matches_the_formula() {
        assert_eq!(relative_error(1.0, 1.0), 0.0);
        assert!((relative_error(1.0, 3.0) - 0.5).abs() < 1e-15);
        assert_eq!(relative_error(0.0, 0.0), 0.0);
        assert!((relative_error(1e-9, 0.0) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }
}
