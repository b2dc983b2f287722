//! The compiler never panics, whatever it is given: it returns the compiled
//! function or errors. Malformed inputs: every prefix of valid functions, random
//! token soups (inside a function body, as the whole item, as the attribute),
//! random but well-formed bodies built from the language's own ops, deep nesting,
//! and empty input. Inputs that once made it panic are kept at the end as
//! regression cases.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;

/// Compiles and expands `attr` and `item` (an input with errors expands to its
/// errors and the stubs of every generated item, which runs the emitter too),
/// failing the test with the input if anything panics.
fn assert_no_panic(attr: &TokenStream, item: &TokenStream) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = backprop_dsl::compile(attr.clone(), item.clone());
        backprop_dsl::expand(attr.clone(), item.clone());
    }));
    if result.is_err() {
        panic!("the compiler panicked on\n#[differentiable({attr})]\n{item}");
    }
}

fn tokens(src: &str) -> TokenStream {
    src.parse().expect("test input lexes")
}

/// Valid functions and their attributes, from small to everything at once.
const VALID: &[(&str, &str)] = &[
    (
        "",
        "pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
            let z = x.dot(&w) + &b;
            sigmoid(z)
        }",
    ),
    (
        "layer = Dense",
        "fn dense<T: Real>(x: ArrayView2<T>, w: &Array2<T>, b: ArrayView1<T>) -> Array2<T> {
            leaky_relu(x.dot(w) + &b, 0.01)
        }",
    ),
    (
        "",
        "pub fn loss<T: Real>(logits: ArrayView2<T>, labels: ArrayView1<usize>, #[no_grad] scale: T) -> (Array2<T>, T) {
            let p = softmax(logits, Axis(1));
            let nll = -pick(log_softmax(logits, Axis(1)), &labels).mean() * scale;
            (p, nll)
        }",
    ),
    (
        "crate = ::backprop",
        "pub fn gru<T: Real>(x: ArrayView2<T>, h: ArrayView2<T>, w: ArrayView2<T>, n: usize) -> Array2<T> {
            let g = concatenate(Axis(1), &[&x, &h]).dot(&w);
            let r = sigmoid(g.slice_axis(Axis(1), 0..n));
            let u = sigmoid(g.slice_axis(Axis(1), n..2 * n));
            let c = tanh(g.slice_axis(Axis(1), 2 * n..g.len_of(Axis(1))));
            let q = stop_gradient(floor(c * 4.0) / 4.0);
            where_(r > 0.5, u * &h + (1.0 - u) * c, maximum(q, 0.0) - minimum(&h, r))
        }",
    ),
    (
        "",
        "pub fn caller<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>, labels: ArrayView1<usize>) -> (Array2<T>, T) {
            let h: Array2<T> = dense(x, w, b);
            let (g, c): (Array2<T>, Array2<T>) = self::gates(&h, w.t());
            let l: T = other::loss(g * c, labels);
            let s: Array1<T> = h.sum_axis(Axis(0));
            (crate::cells::dense(h, w, s), l)
        }",
    ),
    (
        "",
        "pub fn f32_only(x: ArrayView1<f32>, t: &Array2<f32>, ids: ArrayView1<usize>) -> f32 {
            let e = rows(t.view(), &ids).t().to_owned();
            (x.dot(&e) * std::f32::consts::PI).sum() + logsumexp(e, Axis(0)).sum()
        }",
    ),
];

/// How many tokens `truncate` can keep: every token tree, groups counted once
/// each plus their contents.
fn size(ts: &TokenStream) -> usize {
    ts.clone()
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => 1 + size(&g.stream()),
            _ => 1,
        })
        .sum()
}

/// The first `budget` token trees in reading order; a group that is cut keeps
/// its delimiters around what fits, so the prefix still lexes.
fn truncate(ts: &TokenStream, budget: &mut usize) -> TokenStream {
    let mut out = TokenStream::new();
    for tt in ts.clone() {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        match tt {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), truncate(&g.stream(), budget));
                inner.set_span(g.span());
                out.extend([TokenTree::Group(inner)]);
            }
            other => out.extend([other]),
        }
    }
    out
}

fn prefixes(ts: &TokenStream) -> impl Iterator<Item = TokenStream> + '_ {
    (0..=size(ts)).map(move |k| truncate(ts, &mut { k }))
}

#[test]
fn every_prefix_of_valid_functions() {
    for (attr, item) in VALID {
        let (attr, item) = (tokens(attr), tokens(item));
        assert!(
            backprop_dsl::compile(attr.clone(), item.clone()).is_ok(),
            "the full function compiles: {item}"
        );
        for prefix in prefixes(&item) {
            assert_no_panic(&attr, &prefix);
        }
        for prefix in prefixes(&attr) {
            assert_no_panic(&prefix, &item);
        }
    }
}

#[test]
fn every_token_of_valid_functions_removed_or_doubled() {
    // One token dropped or repeated anywhere, including inside groups.
    fn edits(ts: &TokenStream) -> Vec<TokenStream> {
        let trees: Vec<TokenTree> = ts.clone().into_iter().collect();
        let mut out = Vec::new();
        for i in 0..trees.len() {
            let mut dropped = trees.clone();
            dropped.remove(i);
            out.push(dropped.into_iter().collect());
            let mut doubled = trees.clone();
            doubled.insert(i, trees[i].clone());
            out.push(doubled.into_iter().collect());
            if let TokenTree::Group(g) = &trees[i] {
                for inner in edits(&g.stream()) {
                    let mut edited = trees.clone();
                    edited[i] = TokenTree::Group(Group::new(g.delimiter(), inner));
                    out.push(edited.into_iter().collect());
                }
            }
        }
        out
    }
    for (attr, item) in VALID {
        let (attr, item) = (tokens(attr), tokens(item));
        for edited in edits(&item) {
            assert_no_panic(&attr, &edited);
        }
    }
}

#[test]
fn empty_input() {
    let empty = TokenStream::new();
    assert_no_panic(&empty, &empty);
    assert_no_panic(&tokens("layer = X"), &empty);
    assert!(backprop_dsl::compile(TokenStream::new(), TokenStream::new()).is_err());
    // A function with nothing in it.
    assert_no_panic(&empty, &tokens("fn f() {}"));
    assert_no_panic(&empty, &tokens("fn f<T: Real>() -> T {}"));
    assert_no_panic(
        &tokens("layer = L"),
        &tokens("fn f<T: Real>() -> T { 1.0 }"),
    );
}

/// A thread with the main thread's usual 8 MiB stack, as rustc gives a proc macro.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic");
}

#[test]
fn deeply_nested_expressions() {
    on_big_stack(|| {
        let wrap = |depth: usize, open: &str, close: &str| {
            format!("{}x{}", open.repeat(depth), close.repeat(depth))
        };
        let bodies = [
            wrap(200, "(", ")"),
            wrap(100, "sigmoid(", ")"),
            wrap(100, "-", ""),
            wrap(60, "maximum(x, ", ")"),
            wrap(60, "where_(x > 0.0, x, ", ")"),
            wrap(60, "stop_gradient(", ")"),
            format!("x{}", " + x * 2.0".repeat(300)),
            format!("x{}", ".t()".repeat(100)),
            format!("x{}", ".view()".repeat(100)),
            wrap(80, "(", " + x)"),
            wrap(80, "&", ""),
            wrap(50, "softmax(", ", Axis(1))"),
            wrap(50, "x.dot(&", ")"),
        ];
        for body in &bodies {
            let item = tokens(&format!(
                "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {body} }}"
            ));
            assert_no_panic(&TokenStream::new(), &item);
        }
        // Many statements, each using the one before.
        let lets: String = (0..300)
            .map(|i| format!("let v{} = tanh(v{} * 0.5) + &x;\n", i + 1, i))
            .collect();
        let item = tokens(&format!(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ let v0 = x * 1.0; {lets} v300 }}"
        ));
        assert!(backprop_dsl::compile(TokenStream::new(), item.clone()).is_ok());
        assert_no_panic(&TokenStream::new(), &item);
    });
}

// ------------------------------------------------------------------ token soups

const WORDS: &[&str] = &[
    "x",
    "w",
    "b",
    "ids",
    "n",
    "s",
    "T",
    "Real",
    "f32",
    "f64",
    "usize",
    "fn",
    "pub",
    "let",
    "mut",
    "return",
    "if",
    "else",
    "match",
    "for",
    "in",
    "loop",
    "self",
    "Self",
    "async",
    "const",
    "unsafe",
    "where",
    "impl",
    "struct",
    "Array2",
    "ArrayView2",
    "ArrayView1",
    "Array",
    "Ix2",
    "Axis",
    "sigmoid",
    "dot",
    "t",
    "sum",
    "sum_axis",
    "mean",
    "softmax",
    "log_softmax",
    "pick",
    "rows",
    "where_",
    "maximum",
    "concatenate",
    "slice_axis",
    "stop_gradient",
    "floor",
    "leaky_relu",
    "powi",
    "len_of",
    "nrows",
    "view",
    "to_owned",
    "std",
    "consts",
    "PI",
    "no_grad",
    "layer",
    "crate",
    "_",
];
const PUNCTS: &[char] = &[
    '+', '-', '*', '/', '%', ';', ',', '.', '&', '<', '>', '=', ':', '!', '?', '|', '#', '\'', '@',
    '^',
];

fn leaf() -> impl Strategy<Value = TokenTree> {
    prop_oneof![
        4 => prop::sample::select(WORDS)
            .prop_map(|w| TokenTree::Ident(Ident::new(w, Span::call_site()))),
        3 => (prop::sample::select(PUNCTS), any::<bool>()).prop_map(|(c, joint)| {
            let spacing = if joint { Spacing::Joint } else { Spacing::Alone };
            TokenTree::Punct(Punct::new(c, spacing))
        }),
        1 => prop_oneof![
            (0u32..10).prop_map(Literal::u32_unsuffixed),
            (0u32..1000).prop_map(|v| Literal::f64_unsuffixed(f64::from(v) / 8.0)),
            Just(Literal::string("s")),
            Just(Literal::f64_suffixed(1.5)),
            Just(Literal::u64_unsuffixed(u64::MAX)),
        ]
        .prop_map(TokenTree::Literal),
    ]
}

fn soup() -> impl Strategy<Value = TokenStream> {
    let tree = leaf().prop_recursive(4, 48, 8, |inner| {
        (
            prop::sample::select(
                &[
                    Delimiter::Parenthesis,
                    Delimiter::Brace,
                    Delimiter::Bracket,
                    Delimiter::None,
                ][..],
            ),
            prop::collection::vec(inner, 0..8),
        )
            .prop_map(|(d, trees)| TokenTree::Group(Group::new(d, trees.into_iter().collect())))
    });
    prop::collection::vec(tree, 0..24).prop_map(|trees| trees.into_iter().collect())
}

// ------------------------------------------------------------------ well-formed bodies

const SIGNATURE: &str = "pub fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>, \
    v: Array3<T>, #[no_grad] s: T, ids: ArrayView1<usize>, n: usize)";
const OPERANDS: &[&str] = &[
    "x",
    "w",
    "b",
    "v",
    "s",
    "ids",
    "n",
    "&x",
    "&b",
    "1.0",
    "0",
    "2",
    "-0.5",
    "Axis(0)",
    "Axis(1)",
    "Axis(2)",
    "Axis(n)",
    "0..n",
    "1..2",
    "n..",
    "0..=1",
    "&[&x, &w]",
    "&[&x, &b]",
    "&[]",
    "x > 0.0",
    "b <= x",
    "std::f64::consts::PI",
    "undefined",
    "\"s\"",
    "(x, w)",
    "1e300",
    "1e400",
    "0.0",
];

/// An expression of the language's shape: names, literals, operators and calls of
/// its ops (as functions or methods) with any number of arguments of any kind.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(OPERANDS).prop_map(str::to_string);
    leaf.prop_recursive(5, 64, 4, |inner| {
        let names: Vec<&'static str> = backprop_dsl::ops::all_names()
            .chain(["relu", "exp", "nope", "Axis"])
            .collect();
        prop_oneof![
            (
                prop::sample::select(names.clone()),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(op, args)| format!("{op}({})", args.join(", "))),
            (
                inner.clone(),
                prop::sample::select(names),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(recv, op, args)| format!("({recv}).{op}({})", args.join(", "))),
            (
                inner.clone(),
                prop::sample::select(&["+", "-", "*", "/", ">", "<=", "==", "%"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.prop_map(|a| format!("&{a}")),
        ]
    })
}

fn function() -> impl Strategy<Value = String> {
    let ret = prop::sample::select(
        &[
            "Array2<T>",
            "Array1<T>",
            "Array3<T>",
            "T",
            "(Array2<T>, T)",
            "(T, T, Array1<T>)",
            "ArrayView2<T>",
            "usize",
        ][..],
    );
    (
        ret,
        prop::collection::vec(expr(), 0..5),
        prop::collection::vec(expr(), 1..3),
    )
        .prop_map(|(ret, lets, tail)| {
            let lets: String = lets
                .iter()
                .enumerate()
                .map(|(i, e)| format!("let l{i} = {e};\n"))
                .collect();
            let tail = if tail.len() == 1 {
                tail[0].clone()
            } else {
                format!("({})", tail.join(", "))
            };
            format!("{SIGNATURE} -> {ret} {{\n{lets}{tail}\n}}")
        })
}

// ------------------------------------------------------------------ well-typed bodies

/// A small deterministic generator (splitmix64), so a program is a function of its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A float array expression of `rank` (0 for a scalar such as `x.sum()`),
    /// mostly well-typed: sometimes an operand of another rank or kind slips in, so
    /// that both the error paths and the derivative rules and emitter are reached.
    fn expr(&mut self, rank: usize, depth: u32, names: &[(String, usize)]) -> String {
        if self.below(40) == 0 {
            // A mistake: any operand at all.
            return self
                .pick(&["ids", "n", "s", "x", "b", "v", "1.0", "x > 0.0"])
                .to_string();
        }
        let leaves: Vec<&str> = names
            .iter()
            .filter(|(_, r)| *r == rank)
            .map(|(n, _)| n.as_str())
            .collect();
        if depth == 0 || (self.below(4) == 0 && !leaves.is_empty()) {
            if leaves.is_empty() {
                return match rank {
                    0 => format!("{}.sum()", self.expr(2, 0, names)),
                    _ => format!("sigmoid({})", self.expr(rank - 1, 0, names)),
                };
            }
            return self.pick(&leaves).to_string();
        }
        let d = depth - 1;
        let axis = |g: &mut Gen, r: usize| g.below(r.max(1));
        match self.below(16) {
            0 | 1 => {
                let op = backprop_spec::ELEMENTWISE[self.below(backprop_spec::ELEMENTWISE.len())];
                let mut args = vec![self.expr(rank, d, names)];
                for _ in op.params {
                    args.push(
                        self.pick(&["0.5", "2", "s", "1e-3", "(1e300 * 1e300)"])
                            .to_string(),
                    );
                }
                let call = format!("{}({})", op.name, args.join(", "));
                if op.uses.is_none() || self.below(8) == 0 {
                    format!("stop_gradient({call})")
                } else {
                    call
                }
            }
            2 | 3 => {
                let op = self.pick(&["+", "-", "*", "/"]);
                let lr = rank.saturating_sub(self.below(2));
                let (a, b) = (self.expr(rank, d, names), self.expr(lr, d, names));
                match self.below(4) {
                    0 => {
                        let c =
                            self.pick(&["1.0", "s", "2", "std::f64::consts::PI", "(0.0 / 0.0)"]);
                        format!("({a} {op} {c})")
                    }
                    1 => format!("({} {op} {a})", self.pick(&["2.0", "s"])),
                    2 => format!("(&{b} {op} {a})"),
                    _ => format!("({a} {op} &{b})"),
                }
            }
            4 => format!("-{}", self.expr(rank, d, names)),
            5 => {
                let cmp = self.pick(&[">", ">=", "<", "<=", "==", "!="]);
                format!(
                    "where_({} {cmp} {}, {}, {})",
                    self.expr(rank, d, names),
                    self.pick(&["0.0", "s"]),
                    self.expr(rank, d, names),
                    self.expr(rank, d, names)
                )
            }
            6 => format!(
                "{}({}, {})",
                self.pick(&["maximum", "minimum"]),
                self.expr(rank, d, names),
                self.pick(&["0.0", "s"])
            ),
            7 if rank <= 2 => {
                // A product that gives `rank`.
                let (a, b) = match rank {
                    2 => (2, 2),
                    1 => [(2, 1), (1, 2)][self.below(2)],
                    _ => (1, 1),
                };
                format!(
                    "{}.dot(&{})",
                    self.expr(a, d, names),
                    self.expr(b, d, names)
                )
            }
            8 if rank < 6 => {
                let k = axis(self, rank + 1);
                let op = self.pick(&["sum_axis", "mean_axis", "max_axis", "logsumexp"]);
                format!("{op}({}, Axis({k}))", self.expr(rank + 1, d, names))
            }
            9 if rank >= 1 => {
                let op = self.pick(&["softmax", "log_softmax"]);
                format!(
                    "{op}({}, Axis({}))",
                    self.expr(rank, d, names),
                    axis(self, rank)
                )
            }
            10 if rank == 2 => format!("{}.t()", self.expr(2, d, names)),
            10 | 11 if rank == 1 => format!("pick({}, &ids)", self.expr(2, d, names)),
            11 if rank == 2 => format!("rows({}, &ids)", self.expr(2, d, names)),
            12 if rank >= 1 => {
                let k = axis(self, rank);
                let end = self.pick(&["n", "1", "n + 1", "2 * n"]);
                format!(
                    "{}.slice_axis(Axis({k}), 0..{end})",
                    self.expr(rank, d, names)
                )
            }
            13 if rank >= 1 => format!(
                "concatenate(Axis({}), &[&{}, &{}])",
                axis(self, rank),
                self.expr(rank, d, names),
                self.expr(rank, d, names)
            ),
            14 if rank == 0 => {
                let r = self.below(4);
                format!(
                    "{}.{}()",
                    self.expr(r, d, names),
                    self.pick(&["sum", "mean"])
                )
            }
            _ => format!(
                "{}({})",
                self.pick(&["stop_gradient", "tanh", "exp"]),
                self.expr(rank, d, names)
            ),
        }
    }

    fn function(&mut self) -> String {
        let mut names: Vec<(String, usize)> = vec![
            ("x".into(), 2),
            ("w".into(), 2),
            ("b".into(), 1),
            ("v".into(), 3),
        ];
        let mut body = String::new();
        for i in 0..self.below(5) {
            let rank = self.below(4);
            let depth = 1 + self.below(3) as u32;
            let e = self.expr(rank, depth, &names);
            body.push_str(&format!("    let l{i} = {e};\n"));
            names.push((format!("l{i}"), rank));
        }
        let outputs: Vec<usize> = (0..1 + self.below(2)).map(|_| self.below(3)).collect();
        let ty = |r: usize| {
            if r == 0 {
                "T".to_string()
            } else {
                format!("Array{r}<T>")
            }
        };
        let tails: Vec<String> = outputs
            .iter()
            .map(|&r| {
                let depth = 1 + self.below(3) as u32;
                self.expr(r, depth, &names)
            })
            .collect();
        let (ret, tail) = if outputs.len() == 1 {
            (ty(outputs[0]), tails[0].clone())
        } else {
            (
                format!(
                    "({})",
                    outputs
                        .iter()
                        .map(|&r| ty(r))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("({})", tails.join(", ")),
            )
        };
        let no_grad = if self.below(3) == 0 {
            "#[no_grad] "
        } else {
            ""
        };
        format!(
            "pub fn f<T: Real>(x: ArrayView2<T>, {no_grad}w: &Array2<T>, b: ArrayView1<T>, \
             v: ArrayView3<T>, #[no_grad] s: T, ids: ArrayView1<usize>, n: usize) -> {ret} {{\n{body}    {tail}\n}}"
        )
    }
}

#[test]
fn most_generated_programs_compile() {
    // The typed generator is only useful if it gets past the checker.
    let ok = (0..500)
        .filter(|&seed| {
            let src = Gen(seed).function();
            backprop_dsl::compile(TokenStream::new(), tokens(&src)).is_ok()
        })
        .count();
    assert!(ok > 250, "only {ok} of 500 generated programs compile");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn soup_as_function_body(body in soup()) {
        let item: TokenStream = format!("{SIGNATURE} -> Array2<T> {{}}").parse().unwrap();
        let mut trees: Vec<TokenTree> = item.into_iter().collect();
        let last = trees.len() - 1;
        trees[last] = TokenTree::Group(Group::new(Delimiter::Brace, body));
        assert_no_panic(&TokenStream::new(), &trees.into_iter().collect());
    }

    #[test]
    fn soup_as_item(item in soup()) {
        assert_no_panic(&TokenStream::new(), &item);
    }

    #[test]
    fn soup_as_signature(params in soup(), ret in soup()) {
        let mut item: TokenStream = tokens("fn f<T: Real>");
        item.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, params))]);
        item.extend(tokens("->"));
        item.extend(ret);
        item.extend(tokens("{ x * 2.0 }"));
        assert_no_panic(&TokenStream::new(), &item);
    }

    #[test]
    fn soup_as_attribute(attr in soup()) {
        assert_no_panic(&attr, &tokens(VALID[0].1));
    }

    #[test]
    fn well_formed_bodies(src in function()) {
        assert_no_panic(&TokenStream::new(), &tokens(&src));
    }

    #[test]
    fn well_typed_programs(seed in any::<u64>()) {
        assert_no_panic(&TokenStream::new(), &tokens(&Gen(seed).function()));
    }

    #[test]
    fn well_formed_bodies_as_layers(src in function()) {
        assert_no_panic(&tokens("layer = L"), &tokens(&src));
    }
}

// ------------------------------------------------------------------ regressions

/// Inputs that made the compiler panic, kept so they never do again.
#[test]
fn regressions() {
    // Constants folded to inf or NaN, and literals out of range, were emitted as
    // float literals, which cannot hold them (proc_macro2 panics).
    let overflow = [
        "x * (1e300 * 1e300)",
        "x * (0.0 / 0.0)",
        "x * (1.0 / 0.0)",
        "x * -(1e308 * 10.0)",
        "x * 1e400",
        "powi(x, 1e400)",
        "leaky_relu(x, 1e300 * -1e300)",
        "where_(x > 1e300 * 1e300, x, 1.0 / 0.0)",
    ];
    for body in overflow {
        let item = tokens(&format!(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {body} }}"
        ));
        assert_no_panic(&TokenStream::new(), &item);
    }
    let huge = format!(
        "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ x * 1{} }}",
        "0".repeat(400)
    );
    assert_no_panic(&TokenStream::new(), &tokens(&huge));
}

/// Every trybuild case of the macro expands without a panic: the error cases
/// go through the stub path (a regression: the non-finite guards once indexed
/// the arguments of an argument-less stub node there).
#[test]
fn every_ui_case_expands_without_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../backprop-tests/tests/ui");
    let mut checked = 0;
    for category in std::fs::read_dir(&dir).expect("the ui cases") {
        let category = category.expect("a directory entry").path();
        let Ok(files) = std::fs::read_dir(&category) else {
            continue;
        };
        for file in files {
            let path = file.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&path).expect("readable");
                let result = std::panic::catch_unwind(|| backprop_dsl::expand_source(&src));
                assert!(result.is_ok(), "{} panicked", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} cases");
}
