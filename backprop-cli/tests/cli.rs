//! The binary: exit codes (0 success, 1 errors in the file, 2 usage errors)
//! and errors printed like rustc's, with the line, the caret and the `help:`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn backprop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A file in a fresh temporary directory of this test.
fn temp_file(test: &str, name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("backprop-cli-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writable");
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const BAD: &str = "use backprop::prelude::*;

#[differentiable]
pub fn bad<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {
    let z = x.dot(&w);
    tanhh(z)
}
";

#[test]
fn a_dsl_error_exits_1_with_the_line_the_caret_and_the_help() {
    let path = temp_file("dsl", "bad.rs", BAD);
    let p = path.to_str().expect("utf-8");
    for cmd in [vec!["expand", p], vec!["math", p]] {
        let o = backprop(&cmd);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("error: unknown op `tanhh`"), "{err}");
        assert!(err.contains(&format!(" --> {p}:6:5\n")), "{err}");
        assert!(err.contains("6 |     tanhh(z)\n  |     ^^^^^\n"), "{err}");
        assert!(err.contains("= help: did you mean `tanh`?"), "{err}");
        assert!(o.stdout.is_empty(), "nothing on stdout");
    }
    let out = path.with_extension("svg");
    let o = backprop(&["graph", p, "-o", out.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!out.exists(), "no drawing of a function with errors");
}

#[test]
fn a_syntax_error_exits_1_at_its_place() {
    let path = temp_file(
        "syntax",
        "syntax.rs",
        "#[differentiable]\nfn f(x: ArrayView2<T>) -> T {\n    x.sum(\n}\n",
    );
    let o = backprop(&["expand", path.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(" --> ") && err.contains('^') && err.contains("help:"),
        "{err}"
    );
}

#[test]
fn a_denied_lint_is_an_error_and_a_warning_is_not() {
    let src = |attr: &str| {
        format!(
            "#[differentiable({attr})]\npub fn f<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>) -> T {{\n    tanh(x).sum()\n}}\n"
        )
    };
    let warn = temp_file("lint", "warn.rs", &src(""));
    let o = backprop(&["math", warn.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: the input `y` is never used"),
        "{}",
        stderr(&o)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("dy = 0"));
    let deny = temp_file("lint", "deny.rs", &src("deny(unused_input)"));
    let o = backprop(&["math", deny.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: the input `y` is never used"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let path = temp_file(
        "usage",
        "ok.rs",
        "#[differentiable]\npub fn f<T: Real>(x: ArrayView2<T>) -> T {\n    tanh(x).sum()\n}\n",
    );
    let p = path.to_str().expect("utf-8");
    let cases: Vec<Vec<&str>> = vec![
        vec!["expand"],
        vec!["expand", p, "--bogus"],
        vec!["frobnicate", p],
        vec!["expand", "/nonexistent/file.rs"],
        vec!["math", p, "--item", "g"],
        vec!["graph", p, "-o", "out.png"],
    ];
    for args in cases {
        let o = backprop(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("error"), "{args:?}: {}", stderr(&o));
    }
    let o = backprop(&["math", p, "--item", "g"]);
    assert!(stderr(&o).contains("(it has `f`)"), "{}", stderr(&o));
}

#[test]
fn success_exits_0_and_writes_the_drawing() {
    let path = temp_file(
        "ok",
        "ok.rs",
        "#[differentiable]\npub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {\n    let z = x.dot(&w);\n    relu(z)\n}\n",
    );
    let p = path.to_str().expect("utf-8");
    let o = backprop(&["math", p]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let math = String::from_utf8_lossy(&o.stdout);
    assert!(math.contains("dz = dout * 1[z > 0]"), "{math}");
    assert!(math.contains("dx = dz w^T"), "{math}");
    assert!(math.contains("dw = x^T dz"), "{math}");
    let o = backprop(&["expand", p, "--item", "f", "--ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("-- backward: f_backward --") && out.contains("// line 4: relu(z)"),
        "{out}"
    );
    for ext in ["svg", "dot"] {
        let target = path.with_extension(ext);
        let o = backprop(&["graph", p, "-o", target.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = std::fs::read_to_string(&target).expect("written");
        assert!(text.contains("red"), "{text}");
    }
}
