//! Prints what `#[differentiable]` generates for the functions of a source file:
//! `cargo run -p backprop-dsl --example expand -- path/to/file.rs`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: expand FILE.rs");
        std::process::exit(2);
    };
    let expanded = std::fs::read_to_string(&path)
        .map_err(|e| format!("{path}: {e}"))
        .and_then(|src| backprop_dsl::expand_source(&src));
    match expanded {
        Ok(code) => print!("{code}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
