//! The compiler behind `#[differentiable]`, as a plain library so that it can be
//! unit-tested, property-tested and fuzzed without rustc.
//!
//! Stages, each in its own module:
//!
//! 1. [`parse`]: attribute options, signature, `let` statements (rejects anything else).
//! 2. [`check`]: names, and each op's check from [`ops`] (kinds, ranks, constants);
//!    lowers to the [`ir`] with its [`ir::Signature`]. Only stages 1 and 2 reject
//!    user input (and a lint the attribute denies); every diagnostic has a span and
//!    a `help:` ([`diag`]), its text from the catalogue [`messages`].
//! 3. [`lints`]: warnings over the checked IR, one registry entry each.
//! 4. [`diff`]: reverse-mode differentiation, appended to the same graph.
//! 5. [`opt`]: the pass pipeline (no-op reshapes, identities, CSE, DCE).
//! 6. [`emit`]: Rust tokens from the IR alone, calling the kernels of `backprop::ops`.
//!
//! `interp` (feature `interp`) evaluates a graph directly, through the same kernel descriptions, so
//! derivative rules can be tested against finite differences without rustc.
//! `verify` runs after every stage and pass in debug builds.
#![forbid(unsafe_code)]

pub mod check;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod gradtest;
#[cfg(any(test, feature = "interp"))]
pub mod interp;
pub mod ir;
pub mod lints;
pub mod messages;
pub mod ops;
pub mod opt;
pub mod parse;
pub mod pretty;

use proc_macro2::TokenStream;
use quote::quote;

pub use diag::Diagnostic;
pub use ir::Graph;

/// The result of compiling one `#[differentiable]` item.
pub struct Compiled {
    /// The parsed function.
    pub def: parse::FnDef,
    /// Its options.
    pub options: parse::Options,
    /// The differentiated graph.
    pub graph: Graph,
    /// What the lints found: warnings, and errors for the lints denied in the
    /// attribute (the code is generated all the same, so nothing cascades).
    pub lints: Vec<Diagnostic>,
}

/// The stack every stage runs on. Parsing, checking and printing recurse once per
/// nested expression, and rustc gives a proc macro only the stack of its own
/// thread (8 MiB), which 600 nested ops used to overflow. The stack is reserved,
/// not committed: a small function touches a few pages of it. 5,000 nested ops
/// (the tested size) take about a tenth of it in a debug build of the compiler.
const STACK_BYTES: usize = 1 << 30;

/// Runs `f` on a stack of 1 GiB (reserved, not committed), on the same thread (a proc macro may
/// only use the compiler's token API from the thread it was called on).
pub fn on_big_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::grow(STACK_BYTES, f)
}

/// Parses, checks, differentiates and optimizes an item, or returns every error found.
pub fn compile(attr: TokenStream, item: TokenStream) -> Result<Compiled, Vec<Diagnostic>> {
    on_big_stack(|| compile_inner(attr, item, true))
}

/// As [`compile`], without the pass pipeline: the graph as differentiation left it,
/// for printing the IR after each pass of [`opt::PIPELINE`] and for testing them.
pub fn compile_unoptimized(
    attr: TokenStream,
    item: TokenStream,
) -> Result<Compiled, Vec<Diagnostic>> {
    on_big_stack(|| compile_inner(attr, item, false))
}

/// Whether the IR is verified after every stage and pass: in debug builds of the
/// compiler, which is what the tests run.
const VERIFY: bool = cfg!(debug_assertions);

/// A failed verification: a bug in a stage, reported at the function's name
/// rather than as a panic inside rustc.
fn internal_error(def: &parse::FnDef, what: String) -> Vec<Diagnostic> {
    vec![Diagnostic::error(
        def.item.sig.ident.span(),
        messages::internal_error(&what),
    )]
}

/// The most tokens a `#[differentiable]` function may have. Every stage recurses
/// once per level of nesting, and a level takes at least one token, so this bounds
/// the depth the stack of [`on_big_stack`] must hold: 50,000 nested calls (100,000
/// tokens) take about half of it in a debug build. Real layers have a few hundred
/// tokens; the tested size, 5,000 nested ops, is 10,000 to 20,000.
pub const MAX_TOKENS: usize = 100_000;

/// An error if `item` is larger than [`MAX_TOKENS`], counted without recursion so
/// that counting cannot overflow the stack either.
fn check_size(item: &TokenStream) -> Result<(), Diagnostic> {
    let mut count = 0usize;
    let mut stack = vec![item.clone()];
    while let Some(ts) = stack.pop() {
        for tt in ts {
            count += 1;
            if let proc_macro2::TokenTree::Group(g) = tt {
                stack.push(g.stream());
            }
        }
        if count > MAX_TOKENS {
            break;
        }
    }
    if count <= MAX_TOKENS {
        return Ok(());
    }
    // The function's name, found at the top level: the token after `fn`.
    let mut tokens = item.clone().into_iter();
    let span = loop {
        match tokens.next() {
            Some(proc_macro2::TokenTree::Ident(i)) if i == "fn" => {
                break tokens.next().map_or(i.span(), |t| t.span());
            }
            Some(_) => {}
            None => break proc_macro2::Span::call_site(),
        }
    };
    Err(Diagnostic::error(
        span,
        messages::too_many_tokens(MAX_TOKENS),
    ))
}

fn compile_inner(
    attr: TokenStream,
    item: TokenStream,
    optimize: bool,
) -> Result<Compiled, Vec<Diagnostic>> {
    check_size(&item).map_err(|e| vec![e])?;
    let mut diags = diag::Diagnostics::new();
    let mut options = parse::parse_options(attr, &mut diags);
    let Some(def) = parse::parse_fn(item, &mut diags) else {
        return Err(diags.into_vec());
    };
    if let Some(spec) = &mut options.check {
        spec.plan = gradtest::plan(&def, spec, &mut diags);
        if let Some(plan) = &mut spec.plan {
            plan.backward = match (&options.backward, options.surrogate) {
                (None, _) => gradtest::Backward::Derived,
                (Some(_), None) => gradtest::Backward::Own,
                (Some(_), Some(_)) => gradtest::Backward::Surrogate,
            };
        }
    }
    match (&options.backward, &options.check, options.surrogate) {
        (Some(path), None, _) => diags.error_at(path, messages::BACKWARD_NEEDS_CHECK),
        (None, _, Some(span)) => diags.error(span, messages::SURROGATE_WITHOUT_BACKWARD),
        _ => {}
    }
    check_holder_signature(&def, &options, &mut diags);
    // A declared surrogate may run through ops without a derivative (`round` in a
    // straight-through estimator): its backward is the user's.
    let mut graph = check::check(&def, options.surrogate.is_some(), &mut diags);
    if diags.has_errors() {
        return Err(diags.into_vec());
    }
    let verify = |g: &Graph, stage: &str| match g.verify() {
        Ok(()) => Ok(()),
        Err(e) => Err(internal_error(&def, messages::after_stage(stage, &e))),
    };
    if VERIFY {
        verify(&graph, "checking")?;
    }
    lints::run(&graph, &options.lints, &mut diags);
    diff::differentiate(&mut graph);
    if VERIFY {
        verify(&graph, "differentiation")?;
    }
    if optimize {
        opt::optimize(&mut graph, VERIFY).map_err(|e| internal_error(&def, e))?;
    }
    Ok(Compiled {
        def,
        options,
        graph,
        lints: diags.into_vec(),
    })
}

/// The signature checks of `layer = ..`, `cell = ..` and `recurrence = ..`, which
/// compiling and the stubs of a function with errors both need.
fn check_holder_signature(
    def: &parse::FnDef,
    options: &parse::Options,
    diags: &mut diag::Diagnostics,
) {
    if options.layer.is_some() {
        check_layer_signature(def, diags);
    }
    if let Some((span, names)) = &options.layer_input {
        check_layer_input(def, options, *span, names, diags);
    }
    if let Some(cell) = &options.cell {
        if let Some(layer) = &options.layer {
            diags.error_at(layer, messages::LAYER_AND_CELL);
        }
        check_cell_signature(def, cell, diags);
    }
    check_recurrence(def, options, diags);
}

/// `input = (x, h)`: with `layer = S`, the function's leading inputs in order,
/// each an array (a float array, or ids).
fn check_layer_input(
    def: &parse::FnDef,
    options: &parse::Options,
    span: proc_macro2::Span,
    names: &[proc_macro2::Ident],
    diags: &mut diag::Diagnostics,
) {
    if options.layer.is_none() {
        diags.error(span, messages::LAYER_INPUT_WITHOUT_LAYER);
        return;
    }
    let leading = def.inputs.iter().take(names.len().max(1));
    let is_leading =
        names.len() <= def.inputs.len() && names.iter().zip(&def.inputs).all(|(n, i)| *n == i.name);
    if !is_leading {
        let given: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let leading: Vec<String> = leading.map(|i| i.name.to_string()).collect();
        let at = names.first().map_or(span, |n| n.span());
        diags.error(at, messages::layer_input_not_leading(&given, &leading));
        return;
    }
    // The first is checked with every layer's signature.
    for input in &def.inputs[1..names.len()] {
        if !matches!(
            input.kind,
            parse::InputKind::Float(..) | parse::InputKind::Int(..)
        ) {
            let message = messages::layer_input_not_array(&input.name.to_string());
            diags.error(input.name.span(), message);
        }
    }
}

/// `recurrence = name`: a 2-D float input after the state, taking a gradient
/// (a `Param` field), on a cell.
fn check_recurrence(def: &parse::FnDef, options: &parse::Options, diags: &mut diag::Diagnostics) {
    let Some(name) = &options.recurrence else {
        return;
    };
    let after_state = 1 + def.outputs.len();
    let is_field = options.cell.is_some()
        && def.inputs.iter().skip(after_state).any(|i| {
            i.name == *name && matches!(i.kind, parse::InputKind::Float(2, _)) && !i.no_grad
        });
    if !is_field {
        diags.error(
            name.span(),
            messages::recurrence_not_a_field(&name.to_string()),
        );
    }
}

/// A cell: `x`, then one previous-state array per output (one or two), all 2-D
/// float arrays that take gradients, and 2-D outputs.
fn check_cell_signature(def: &parse::FnDef, cell: &syn::Type, diags: &mut diag::Diagnostics) {
    use parse::InputKind;
    let states = def.outputs.len();
    if !(1..=2).contains(&states) || def.outputs.iter().any(|&r| r != 2) {
        let what = "output must be the next state: one 2-D array, or a tuple of two";
        diags.error_at(cell, messages::cell_signature(what));
        return;
    }
    let needed = 1 + states;
    if def.inputs.len() < needed {
        let what = format!("first {needed} inputs must be the step's input and the previous state");
        diags.error(def.item.sig.ident.span(), messages::cell_signature(&what));
        return;
    }
    for (k, input) in def.inputs[..needed].iter().enumerate() {
        let ok = matches!(input.kind, InputKind::Float(2, _)) && !input.no_grad;
        if !ok {
            let role = if k == 0 {
                "step's input"
            } else {
                "previous state"
            };
            let what = format!(
                "{role} `{}` must be a 2-D float array that takes a gradient",
                input.name
            );
            diags.error(input.name.span(), messages::cell_signature(&what));
        }
    }
}

fn check_layer_signature(def: &parse::FnDef, diags: &mut diag::Diagnostics) {
    use parse::InputKind;
    match def.inputs.first() {
        Some(first) if matches!(first.kind, InputKind::Float(..) | InputKind::Int(..)) => {}
        Some(first) => diags.error(first.name.span(), messages::LAYER_FIRST_INPUT),
        None => diags.error(def.item.sig.ident.span(), messages::LAYER_WITHOUT_INPUT),
    }
}

/// The whole expansion of `#[differentiable(attr)] item`: the generated items, or
/// the errors plus a stub of the function so that only the real errors show.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    // Everything, the dropping of the syntax trees included, on the big stack.
    on_big_stack(|| expand_inner(attr, item))
}

fn expand_inner(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Err(e) = check_size(&item) {
        // Too big to parse safely: the error alone, and the item is not given back,
        // since rustc would then check its body (which it can) with nothing gained.
        return e.to_compile_error();
    }
    if syn::parse2::<syn::Item>(item.clone()).is_err() {
        // rustc parses the item before expanding an attribute on it, so it has
        // reported this syntax error already: give the tokens back unchanged (rustc
        // does not report the same error twice) rather than add a second message.
        return item;
    }
    match compile_inner(attr.clone(), item.clone(), true) {
        Ok(c) => {
            let mut out: TokenStream = c
                .lints
                .iter()
                .filter(|d| d.is_error())
                .map(Diagnostic::to_compile_error)
                .collect();
            out.extend(emit::emit(&c.graph, &c.options, &c.lints).tokens);
            out
        }
        Err(errors) => {
            let mut out: TokenStream = errors.iter().map(Diagnostic::to_compile_error).collect();
            out.extend(stubs(attr, item.clone()).unwrap_or_else(|| fallback(item)));
            out
        }
    }
}

/// Expands every `#[differentiable]` function of a Rust source file and returns
/// the generated items, formatted. Other items are left out.
pub fn expand_source(src: &str) -> Result<String, String> {
    on_big_stack(|| expand_source_inner(src))
}

fn expand_source_inner(src: &str) -> Result<String, String> {
    let mut out = TokenStream::new();
    for (args, f) in differentiable_fns(src)? {
        out.extend(expand_inner(args, quote!(#f)));
    }
    Ok(pretty::file(&out))
}

/// The `#[differentiable]` functions of a Rust source file, each with its
/// attribute's arguments and without the attribute.
fn differentiable_fns(src: &str) -> Result<Vec<(TokenStream, syn::ItemFn)>, String> {
    let file: syn::File = syn::parse_str(src).map_err(messages::not_a_rust_file)?;
    let mut fns = Vec::new();
    for item in file.items {
        let syn::Item::Fn(mut f) = item else { continue };
        let Some(pos) = f.attrs.iter().position(parse::is_differentiable) else {
            continue;
        };
        let args = match f.attrs.remove(pos).meta {
            syn::Meta::List(list) => list.tokens,
            _ => TokenStream::new(),
        };
        fns.push((args, f));
    }
    Ok(fns)
}

/// The IR of every `#[differentiable]` function of a Rust source file after the
/// pass pipeline, as [`Graph`]'s printout, each under a `// fn name` line: what
/// the snapshot tests keep beside the generated code.
pub fn ir_source(src: &str) -> Result<String, String> {
    on_big_stack(|| {
        let mut out = String::new();
        for (args, f) in differentiable_fns(src)? {
            let name = f.sig.ident.to_string();
            match compile_inner(args, quote!(#f), true) {
                Ok(c) => out.push_str(&format!("// fn {name}\n{}\n", c.graph)),
                Err(e) => out.push_str(&format!("// fn {name}: {}\n\n", e[0].message)),
            }
        }
        Ok(out)
    })
}

/// Every item a function whose body has errors would have generated (`_train`,
/// `_backward`, `_dyn`, `Saved`, `Grads`, the `Layer` and `Parameters` impls),
/// from its signature, with outputs that are never computed: code using them
/// type-checks, so the user sees only the real errors. `None` when the signature
/// itself has errors, which only [`fallback`] can stand in for.
fn stubs(attr: TokenStream, item: TokenStream) -> Option<TokenStream> {
    // Errors in the options or the layer's signature leave nothing to stub; errors
    // in the function's signature show in what it parsed to (an input or an
    // output left out), and errors in its body do not matter here.
    let mut options_diags = diag::Diagnostics::new();
    let options = parse::parse_options(attr, &mut options_diags);
    let mut def = parse::parse_fn(item, &mut diag::Diagnostics::new())?;
    check_holder_signature(&def, &options, &mut options_diags);
    // `mut x` (reported) would add a warning that it need not be mutable.
    for arg in def.item.sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(p) = arg
            && let syn::Pat::Ident(i) = &mut *p.pat
        {
            i.mutability = None;
        }
    }
    let sig = &def.item.sig;
    let signature_ok = !options_diags.has_errors()
        && def.inputs.len() == sig.inputs.len()
        && !def.outputs.is_empty()
        && def.outputs.len() == def.output_tys.len()
        && sig.generics.type_params().count() <= 1
        && sig.generics.const_params().next().is_none()
        && sig.asyncness.is_none()
        && sig.constness.is_none()
        && sig.abi.is_none()
        && sig.variadic.is_none()
        && matches!(sig.safety, syn::Safety::Default);
    if !signature_ok {
        return None;
    }
    let mut graph = check::stub_graph(&def);
    diff::differentiate(&mut graph);
    Some(emit::emit(&graph, &options, &[]).tokens)
}

/// The user's function with its body replaced, so callers still type-check while
/// the errors above are fixed, and nothing in it makes rustc add errors or
/// warnings of its own. Anything that is not a function (a struct the attribute
/// was put on by mistake) is given back as it was.
fn fallback(item: TokenStream) -> TokenStream {
    let Ok(mut f) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        return item;
    };
    // Each already reported: an `async` stub would need explicit lifetimes in its
    // signature, a `const` one a const-callable body, a variadic one an `extern` block.
    f.sig.asyncness = None;
    f.sig.constness = None;
    f.sig.variadic = None;
    // A second `#[differentiable]` (reported) would expand on the stub again.
    f.attrs.retain(|a| !parse::is_differentiable(a));
    for arg in f.sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(p) = arg {
            p.attrs.retain(|a| !a.path().is_ident("no_grad"));
            // `mut x` (reported) would warn that it need not be mutable.
            if let syn::Pat::Ident(i) = &mut *p.pat {
                i.mutability = None;
            }
        }
    }
    let (attrs, vis, sig) = (&f.attrs, &f.vis, &f.sig);
    let message = messages::DID_NOT_COMPILE;
    quote! {
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig {
            ::core::unreachable!(#message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_option_replaces_every_runtime_path() {
        let item: TokenStream = "fn f<T: Real>(x: ArrayView1<T>) -> Array1<T> { tanh(x) * 2.0 }"
            .parse()
            .expect("tokens");
        let out = expand(quote!(crate = my::bp), item).to_string();
        assert!(out.contains("my :: bp :: ops"), "{out}");
        assert!(!out.contains(":: backprop"), "{out}");
    }
}
