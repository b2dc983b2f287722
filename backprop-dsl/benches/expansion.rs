//! Expansion time of `#[differentiable]` against the size of the function: it
//! must grow linearly. Run with `cargo bench -p backprop-dsl --bench expansion`;
//! divide each median by its size to read the time per op.

use backprop_dsl::expand;
use proc_macro2::TokenStream;

fn main() {
    divan::main();
}

/// `depth` nested elementwise calls: `tanh(tanh(...(x)...))`.
fn nested_calls(depth: usize) -> TokenStream {
    format!(
        "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {}x{} }}",
        "tanh(".repeat(depth),
        ")".repeat(depth)
    )
    .parse()
    .expect("tokens")
}

/// A left-deep chain of `depth` binary ops: `x * 0.5 + x * 0.5 + ...`.
fn binary_chain(depth: usize) -> TokenStream {
    let mut body = String::from("x");
    for _ in 0..depth / 2 {
        body.push_str(" * 0.5 + x");
    }
    format!("fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> Array2<T> {{ {body}.dot(&w) }}")
        .parse()
        .expect("tokens")
}

/// `depth` statements, each reading the one before: the shape of a long layer.
fn statements(depth: usize) -> TokenStream {
    let mut body = String::from("let v0 = x;\n");
    for i in 1..depth {
        body.push_str(&format!(
            "let v{i} = tanh(v{}) * 0.5 + v{};\n",
            i - 1,
            i - 1
        ));
    }
    body.push_str(&format!("v{}", depth - 1));
    format!("fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {body} }}")
        .parse()
        .expect("tokens")
}

const SIZES: &[usize] = &[100, 400, 1600, 6400];

#[divan::bench(args = SIZES, sample_count = 10)]
fn nested(bencher: divan::Bencher, depth: usize) {
    // Tokens are not `Sync`: each sample makes its input on the benchmark's thread.
    bencher
        .with_inputs(|| nested_calls(depth))
        .bench_local_values(|item| expand(TokenStream::new(), item));
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn chain(bencher: divan::Bencher, depth: usize) {
    bencher
        .with_inputs(|| binary_chain(depth))
        .bench_local_values(|item| expand(TokenStream::new(), item));
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn lets(bencher: divan::Bencher, depth: usize) {
    bencher
        .with_inputs(|| statements(depth))
        .bench_local_values(|item| expand(TokenStream::new(), item));
}
