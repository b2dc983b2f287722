//! How the tool fails, and errors in the user's file printed like rustc's:
//!
//! ```text
//! error: unknown function `tanhh`
//!  --> layer.rs:4:5
//!   |
//! 4 |     tanhh(z)
//!   |     ^^^^^
//!   |
//!   = help: did you mean `tanh`?
//! ```

use std::fmt;

use backprop_dsl::Diagnostic;
use backprop_dsl::diag::Severity;
use proc_macro2::LineColumn;

/// Why a command did not succeed, which decides the exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The file has errors (parse errors, errors of the compiler): exit code 1.
    /// The text is the rendered diagnostics.
    Source(String),
    /// The command was used wrongly (a missing file, an unknown item, a bad
    /// output path): exit code 2, like clap's own usage errors.
    Usage(String),
}

impl Failure {
    /// The process exit code: 1 for errors in the file, 2 for usage errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Source(_) => 1,
            Failure::Usage(_) => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Source(text) => f.write_str(text.trim_end()),
            Failure::Usage(text) => write!(f, "error: {text}"),
        }
    }
}

impl std::error::Error for Failure {}

/// One message about a place in the file, as rustc prints it.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    /// `error` or `warning`.
    pub level: &'a str,
    /// The first line.
    pub message: &'a str,
    /// Where the underline starts.
    pub start: LineColumn,
    /// Where it ends (exclusive).
    pub end: LineColumn,
    /// `help:` and `note:` lines after the snippet, each `(kind, text)`.
    pub notes: Vec<(&'a str, String)>,
}

/// Renders `msg` about the file `path` whose text is `src`: the message, the
/// location, the source line with carets under the span, and the notes.
pub fn render(path: &str, src: &str, msg: &Message<'_>) -> String {
    let line_no = msg.start.line.max(1);
    let line = src.lines().nth(line_no - 1).unwrap_or("");
    let width = line_no.to_string().len();
    let pad = " ".repeat(width);
    let col = msg.start.column;
    let len = line.chars().count();
    // The underline runs to the span's end on the same line, else to the line's end.
    let stop = if msg.end.line == msg.start.line {
        msg.end.column.min(len)
    } else {
        len
    };
    let carets = "^".repeat(stop.saturating_sub(col).max(1));
    // Keep tabs as tabs under the line, so the carets line up.
    let indent: String = line
        .chars()
        .take(col)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let mut out = format!(
        "{}: {}\n{pad}--> {path}:{line_no}:{}\n{pad} |\n{line_no} | {line}\n{pad} | {indent}{carets}\n",
        msg.level,
        msg.message,
        col + 1
    );
    if !msg.notes.is_empty() {
        out.push_str(&format!("{pad} |\n"));
        for (kind, text) in &msg.notes {
            let mut lines = text.lines();
            out.push_str(&format!(
                "{pad} = {kind}: {}\n",
                lines.next().unwrap_or_default()
            ));
            for more in lines {
                out.push_str(&format!("{pad}   {more}\n"));
            }
        }
    }
    out.push('\n');
    out
}

/// Renders a diagnostic of the compiler, with its `help:` and, for a lint,
/// the note on how to allow or deny it.
pub fn diagnostic(path: &str, src: &str, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut notes = vec![("help", d.help.clone())];
    // `text()` ends with the lint's note; it is the one place that wording lives.
    if d.lint.is_some()
        && let Some((_, note)) = d.text().split_once("\nnote: ")
    {
        notes.push(("note", note.to_string()));
    }
    render(
        path,
        src,
        &Message {
            level,
            message: &d.message,
            start: d.span.start(),
            end: d.end.end(),
            notes,
        },
    )
}

/// Renders a syntax error of the file, as syn found it.
pub fn syntax_error(path: &str, src: &str, e: &syn::Error) -> String {
    let mut out = String::new();
    for e in e.clone() {
        let span = e.span();
        out.push_str(&render(
            path,
            src,
            &Message {
                level: "error",
                message: &e.to_string(),
                start: span.start(),
                end: span.end(),
                notes: vec![(
                    "help",
                    "the file must parse as Rust before `#[differentiable]` can read it".into(),
                )],
            },
        ));
    }
    out
}

/// The closing line rustc prints after its errors.
pub fn aborting(errors: usize) -> String {
    match errors {
        1 => "error: aborting due to 1 previous error\n".to_string(),
        n => format!("error: aborting due to {n} previous errors\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_runs_under_the_span_on_its_line() {
        let src = "fn f() {\n    let z = tanhh(x);\n}\n";
        let at = |line, column| LineColumn { line, column };
        let text = render(
            "f.rs",
            src,
            &Message {
                level: "error",
                message: "unknown op `tanhh`",
                start: at(2, 12),
                end: at(2, 17),
                notes: vec![("help", "did you mean `tanh`?".into())],
            },
        );
        assert_eq!(
            text,
            "error: unknown op `tanhh`\n --> f.rs:2:13\n  |\n2 |     let z = tanhh(x);\n  |             ^^^^^\n  |\n  = help: did you mean `tanh`?\n\n"
        );
        // A span over several lines is underlined to the end of its first.
        let text = render(
            "f.rs",
            src,
            &Message {
                level: "warning",
                message: "m",
                start: at(2, 4),
                end: at(3, 1),
                notes: Vec::new(),
            },
        );
        assert!(text.contains("\n  |     ^^^^^^^^^^^^^^^^^\n"), "{text}");
    }
}
