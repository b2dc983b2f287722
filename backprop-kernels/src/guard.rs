//! The non-finite guard: opt-in, it stops a computation at the first NaN or
//! infinity a generated function makes, and names where it came from: the
//! forward expression, its file, line and column, and in the backward the value
//! and the forward line it belongs to, with the operands' shapes and how many
//! elements are not finite. It is set per thread (tests running side by side do
//! not see each other's); off, each guarded value costs a thread-local read and
//! a branch never taken, no pass over the data.

use std::cell::Cell;
use std::fmt::Write as _;

use ndarray::{ArrayRef, Dimension};

use crate::{Real, Site};

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}

/// Turns the non-finite guard on or off on this thread (off by default).
/// While on, a generated function called on this thread panics at the first
/// value with a NaN or an infinity, naming its source; see the module docs.
pub fn set_non_finite_guard(on: bool) {
    ON.with(|c| c.set(on));
}

/// Whether the non-finite guard is on, on this thread.
#[inline(always)]
pub fn non_finite_guard() -> bool {
    ON.with(Cell::get)
}

/// Where a guarded value comes from, as generated code describes it: its name,
/// whether the backward computes it, and its [`Site`], whose `op` is what computes
/// it (an op such as `dot`, `a fused loop`, or `input` / `upstream gradient`)
/// and whose `expr` is the forward expression it comes from (for a backward
/// value: the expression whose derivative it is part of; for a fused loop,
/// every expression the loop computes, with its line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The value's name in the generated code (`z`, `d_w`, `t7`).
    pub value: &'static str,
    /// What computes it, from which expression, where.
    pub site: Site,
    /// Whether the backward pass computes it.
    pub backward: bool,
}

impl Origin {
    /// An origin, as generated code writes one per line of its `ORIGINS` table.
    pub const fn new(
        value: &'static str,
        op: &'static str,
        expr: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
        backward: bool,
    ) -> Self {
        Origin {
            value,
            site: Site::new(op, expr, file, line, column),
            backward,
        }
    }
}

/// Checks `value` when the guard is on: panics if it has a NaN or an infinity,
/// naming `origin` and the shapes of the `operands` it was computed from.
#[inline(always)]
pub fn guard<T: Real, D: Dimension>(
    value: &ArrayRef<T, D>,
    origin: &Origin,
    operands: &[&[usize]],
) {
    if non_finite_guard() {
        check(value, origin, operands);
    }
}

#[cold]
#[inline(never)]
fn check<T: Real, D: Dimension>(value: &ArrayRef<T, D>, origin: &Origin, operands: &[&[usize]]) {
    let (nan, inf) = value.iter().fold((0usize, 0usize), |(nan, inf), x| {
        (
            nan + usize::from(x.is_nan()),
            inf + usize::from(x.is_infinite()),
        )
    });
    if nan + inf > 0 {
        panic!("{}", report(origin, operands, value.shape(), nan, inf));
    }
}

/// The guard's message.
fn report(o: &Origin, operands: &[&[usize]], shape: &[usize], nan: usize, inf: usize) -> String {
    let total: usize = shape.iter().product();
    let mut m = format!(
        "non-finite value: `{}` ({:?}) has {} NaN and {} infinite of its {} elements",
        o.value, shape, nan, inf, total
    );
    let pass = if o.backward { "backward" } else { "forward" };
    let Site {
        op,
        expr,
        file,
        line,
        column,
    } = o.site;
    match op {
        "input" | "upstream gradient" => {
            let _ = write!(
                m,
                "\n  it is the {} `{}` of the function at {}:{}:{}",
                op, o.value, file, line, column
            );
        }
        // A fused loop's `expr` lists what it computes, each with its place.
        "a fused loop" => {
            let what = if o.backward { "derivatives of " } else { "" };
            let _ = write!(
                m,
                "\n  computed in the {pass} by a fused loop of {what}{}",
                expr
            );
            let _ = write!(m, "\n  ending at {}:{}:{}", file, line, column);
        }
        op => {
            let _ = write!(m, "\n  computed in the {pass} by {op}");
            if o.backward {
                let _ = write!(m, ", part of the derivative of `{}`", expr);
            } else {
                let _ = write!(m, " from `{}`", expr);
            }
            let _ = write!(m, "\n  at {}:{}:{}", file, line, column);
        }
    }
    if !operands.is_empty() {
        let shapes: Vec<String> = operands.iter().map(|s| format!("{s:?}")).collect();
        let _ = write!(m, "\n  operand shapes: {}", shapes.join(", "));
    }
    m.push_str("\n  (the guard is on: backprop::ops::set_non_finite_guard(true))");
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const ORIGIN: Origin = Origin::new("z", "ln", "ln(x)", "src/lib.rs", 7, 5, false);

    #[test]
    fn the_guard_names_the_source_of_a_non_finite_value_only_when_on() {
        let bad = array![1.0, f64::NAN, f64::INFINITY];
        // Off (the default): nothing is checked.
        guard(&bad, &ORIGIN, &[&[3]]);
        set_non_finite_guard(true);
        guard(&array![1.0, 2.0], &ORIGIN, &[&[2]]);
        let err =
            std::panic::catch_unwind(|| guard(&bad, &ORIGIN, &[&[3]])).expect_err("must stop");
        set_non_finite_guard(false);
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("`z` ([3]) has 1 NaN and 1 infinite of its 3 elements"),
            "{msg}"
        );
        assert!(
            msg.contains("computed in the forward by ln from `ln(x)`"),
            "{msg}"
        );
        assert!(msg.contains("at src/lib.rs:7:5"), "{msg}");
        assert!(msg.contains("operand shapes: [3]"), "{msg}");
    }
}
