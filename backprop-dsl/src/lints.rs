//! The lint registry: every compile-time warning of the language is one entry of
//! [`LINTS`], with its name, its default level, what it catches, and the analysis
//! over the checked IR that finds it. A new lint is one entry here (and its
//! trybuild cases); the attribute's `allow(..)`, `warn(..)` and `deny(..)` options,
//! the messages' notes and the emission as a rustc warning or error come with it.

use proc_macro2::Span;

use crate::diag::{Diagnostic, Diagnostics, Severity, did_you_mean};
use crate::ir::{Graph, Op};
use crate::messages::{self, Message};

/// How a lint is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Allow,
    /// A warning; the code is generated.
    Warn,
    /// A compile error (the code is still generated, so nothing cascades).
    Deny,
}

/// One finding of a lint: where, what, and what to write instead.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The first and last token it is about.
    pub range: (Span, Span),
    /// What is wrong and what to do.
    pub message: Message,
}

/// One compile-time check.
#[derive(Debug)]
pub struct Lint {
    /// Its name in `allow(..)`, `warn(..)` and `deny(..)`.
    pub name: &'static str,
    /// Its level when the attribute does not set one.
    pub default: Level,
    /// What it catches and why, in one line (for the docs).
    pub doc: &'static str,
    /// The analysis: findings over a checked (not yet differentiated) graph.
    pub check: fn(&Graph) -> Vec<Finding>,
}

/// Every lint.
pub static LINTS: &[Lint] = &[
    Lint {
        name: "unused_input",
        default: Level::Warn,
        doc: "an input that no output depends on: its gradient is always zero, which usually means a typo or a forgotten term",
        check: unused_inputs,
    },
    Lint {
        name: "unused_let",
        default: Level::Warn,
        doc: "a `let` binding that nothing reads: its computation is dropped from the generated code",
        check: unused_lets,
    },
];

/// Looks a lint up by name.
pub fn find(name: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.name == name)
}

/// A lint level set in the attribute: `deny(unused_input)`.
#[derive(Clone, Debug)]
pub struct LevelSetting {
    /// The lint.
    pub lint: &'static Lint,
    /// The level asked for.
    pub level: Level,
}

/// Runs every lint whose level is not `Allow` and records its findings as
/// warnings or (when denied) errors.
pub fn run(g: &Graph, settings: &[LevelSetting], diags: &mut Diagnostics) {
    for lint in LINTS {
        // The last setting wins, as with rustc's attributes.
        let level = settings
            .iter()
            .rev()
            .find(|s| std::ptr::eq(s.lint, lint))
            .map_or(lint.default, |s| s.level);
        let severity = match level {
            Level::Allow => continue,
            Level::Warn => Severity::Warning,
            Level::Deny => Severity::Error,
        };
        for f in (lint.check)(g) {
            diags.push(Diagnostic::new(
                severity,
                Some(lint.name),
                f.range,
                f.message,
            ));
        }
    }
}

/// The help for a lint name that does not exist.
pub fn unknown_help(name: &str) -> String {
    let names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
    messages::unknown_lint_help(did_you_mean(name, names.iter().copied()), &names)
}

/// Which nodes the outputs depend on.
fn reaches_outputs(g: &Graph) -> Vec<bool> {
    let mut live = vec![false; g.nodes.len()];
    for &o in &g.outputs {
        live[o] = true;
    }
    for id in (0..g.nodes.len()).rev() {
        if live[id] {
            for &a in &g.nodes[id].args {
                live[a] = true;
            }
        }
    }
    live
}

fn unused_inputs(g: &Graph) -> Vec<Finding> {
    let live = reaches_outputs(g);
    g.inputs
        .iter()
        .filter(|input| !live[input.node] && !input.name.starts_with('_'))
        .map(|input| {
            let span = g.nodes[input.node].span;
            Finding {
                range: (span, span),
                message: messages::unused_input(&input.name, input.wants_grad),
            }
        })
        .collect()
}

fn unused_lets(g: &Graph) -> Vec<Finding> {
    let live = reaches_outputs(g);
    g.lets
        .iter()
        .filter(|b| !b.used && !b.name.starts_with('_'))
        .map(|b| {
            // Computed but dropped, unless the value is also reached another way.
            let dropped = b
                .value
                .is_some_and(|v| !matches!(g.nodes[v].op, Op::Input(_)) && !live[v]);
            Finding {
                range: (b.span, b.span),
                message: messages::unused_let(&b.name, dropped),
            }
        })
        .collect()
}
