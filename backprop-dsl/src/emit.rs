//! Stage 6: Rust code from the optimized graph. All code generation is here.
//! Every node becomes one `let` calling one runtime kernel, named after the user's
//! bindings (`z`, `d_z`) where there are any. Emission cannot fail on a graph that
//! passed checking.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};

use crate::ir::{
    BinOp, Fused, GradOp, Graph, Node, Op, Operand, Reduction, ScalarOp, Ty, UsizeOp, ValueId,
};
use crate::ir::{FloatType, Signature};
use crate::ops::{Attr, K, Kernel, Naming};
use crate::parse::{InputKind, Options, Pass};
use backprop_spec::Compare;

/// Everything generated for one function.
pub struct Emitted {
    /// All items, ready to be returned by the macro.
    pub tokens: TokenStream,
    /// The backward pass as readable source with origin comments (also in its rustdoc).
    pub backward_text: String,
}

/// Which function a value is read in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Forward,
    Backward,
}

struct Emitter<'a> {
    /// The function's signature, from the IR.
    def: &'a Signature,
    g: &'a Graph,
    /// Lint warnings, emitted in the forward's body.
    warnings: TokenStream,
    names: Vec<Ident>,
    saved: Vec<ValueId>,
    /// For a backward temporary read by exactly one node (and neither returned
    /// nor saved), that node: it may take the value by move.
    last_use: Vec<Option<ValueId>>,
    /// Per node, the nodes that read it, in order.
    readers: Vec<Vec<ValueId>>,
    /// For a backward temporary that every reader only borrows while it runs,
    /// its last reader: a loop there may write its result over the temporary's
    /// buffer ([`Emitter::reused_operand`]).
    last_reader: Vec<Option<ValueId>>,
    /// `T`, or `f32`/`f64` for a concrete function.
    float: TokenStream,
    krate: TokenStream,
    /// `backward = path`: the user's backward, which `NAME_backward` calls.
    custom_backward: Option<TokenStream>,
    /// `recurrence = wh`: a cell's recurrence matrix field.
    recurrence: Option<Ident>,
    /// How many leading inputs a layer takes (`input = (x, h)`; 1 by default).
    layer_inputs: usize,
    /// `layer = S`: the function is also a layer's forward.
    layer: bool,
    /// The source sites of the function body being emitted, by their text: the
    /// kernels' calls read `&SITES[k]`, and [`Emitter::guarded`] puts the table
    /// at the top of the body, out of the statements' way.
    sites: std::cell::RefCell<Vec<(String, TokenStream)>>,
}

/// Generates the forward, training forward, backward, saved/gradient structs,
/// the dynamic adapter and (with `layer = ...`) the layer implementation.
/// Lint warnings in `lints` are put in the forward's body, where rustc shows them.
pub fn emit(g: &Graph, opts: &Options, lints: &[crate::Diagnostic]) -> Emitted {
    let mut e = Emitter {
        def: &g.sig,
        g,
        warnings: lints
            .iter()
            .filter(|d| !d.is_error())
            .map(crate::Diagnostic::to_warning)
            .collect(),
        names: Vec::new(),
        saved: Vec::new(),
        last_use: Vec::new(),
        readers: readers_of(g),
        last_reader: Vec::new(),
        float: g.sig.float.clone(),
        krate: opts.krate.to_token_stream(),
        custom_backward: opts.backward.as_ref().map(|p| p.to_token_stream()),
        recurrence: opts.recurrence.clone(),
        layer_inputs: opts
            .layer_input
            .as_ref()
            .map_or(1, |(_, names)| names.len().max(1)),
        layer: opts.layer.is_some(),
        sites: Default::default(),
    };
    e.assign_names();
    e.saved = e.saved_values();
    e.last_use = e.sole_readers();
    e.last_reader = e.last_readers();
    let (backward_fn, backward_text) = e.backward_fn();
    let mut tokens = TokenStream::new();
    tokens.extend(e.forward_fn());
    tokens.extend(e.structs());
    tokens.extend(e.train_fn(false));
    tokens.extend(backward_fn);
    tokens.extend(e.dyn_fn(&backward_text));
    tokens.extend(e.callee_impl());
    tokens.extend(e.call_items());
    if let Some(cell) = &opts.cell {
        tokens.extend(in_block(e.cell_impl(cell)));
    }
    if let Some(custom) = e.custom_backward.clone() {
        tokens.extend(e.custom_backward_fn(&custom));
    }
    if let Some(layer) = &opts.layer {
        // A backward of the user's own has no parameters-only variant.
        if e.custom_backward.is_none() {
            tokens.extend(e.backward_params_fn());
        }
        if !e.lent_params().is_empty() {
            tokens.extend(e.train_fn(true));
        }
        tokens.extend(in_block(e.layer_impl(layer)));
    }
    if let Some(plan) = opts.check.as_ref().and_then(|c| c.plan.as_ref()) {
        let k = &e.krate;
        tokens.extend(crate::gradtest::emit_test(
            plan,
            e.fn_name(),
            &e.item_name("_dyn"),
            k,
        ));
    }
    Emitted {
        tokens,
        backward_text,
    }
}

/// Items in an anonymous `const` block: their impls apply as anywhere, and
/// their helpers (field accessors and their traits) take no module-level name
/// that another function's generated items could also take.
fn in_block(items: TokenStream) -> TokenStream {
    quote!(const _: () = { #items };)
}

/// The 1-based line and column of `span`'s start, as literals for a `Site` or an `Origin`.
fn place(span: Span) -> (Literal, Literal) {
    let start = span.start();
    (
        Literal::u32_unsuffixed(start.line as u32),
        Literal::u32_unsuffixed(start.column as u32 + 1),
    )
}

/// A backward function's statements, its seed parameter and prologue, and each
/// gradient handed out: the input's name and the expression.
/// What reading a layer's or cell's fields takes (see `Emitter::holder_fields`).
struct HolderFields {
    /// The function's arguments after the leading ones, read from the fields.
    args: Vec<TokenStream>,
    /// `f(w.as_param_mut("w"));` per parameter.
    params: Vec<TokenStream>,
    /// `w.accumulate(&grads.w);` per parameter.
    accumulate: Vec<TokenStream>,
    /// The parameters that take gradients, which `__NAME_backward_params`
    /// adds its gradients into, in input order.
    grad_params: Vec<Ident>,
    /// `let (w, b) = accessor(self);`
    fields: TokenStream,
    /// The same, mutably.
    fields_mut: TokenStream,
    /// The accessor functions.
    accessors: TokenStream,
    /// `::<T>` for a generic function.
    turbofish: TokenStream,
}

struct BackwardBody {
    stmts: Vec<(ValueId, TokenStream)>,
    /// The statements with their non-finite guards, as emitted.
    code: Vec<TokenStream>,
    seed_param: TokenStream,
    seed_prologue: TokenStream,
    grads: Vec<(Ident, TokenStream)>,
}

/// A short identifier for a source expression: names kept, operators as words
/// (`f * &c_prev` is `f_times_c_prev`, `x.dot(&w)` is `x_dot_w`); `None` when
/// that would be long or the expression holds a literal or a call.
fn ident_from_text(text: &str) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    for c in text.chars() {
        match c {
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            '*' | '/' | '+' | '-' | '.' => {
                flush(&mut word, &mut words);
                words.extend(BinOp::of_char(c).map(|op| op.word().to_string()));
            }
            '&' | ' ' | '(' | ')' => flush(&mut word, &mut words),
            _ => return None,
        }
    }
    flush(&mut word, &mut words);
    let name = words.join("_");
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    let plain = words
        .iter()
        .all(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let ident = syn::parse_str::<Ident>(&name).is_ok();
    (starts_well && plain && ident && name.len() <= 24).then_some(name)
}

/// The graph values the parameters `args` of a fused body node stand for.
/// Parameters are scalars, so always arguments of the loop (`verify`'s type
/// rule: a body node is an array); a body node among them would leave the call
/// one argument short, which rustc reports, never a wrong value.
fn n_args(n: &Node, fused: &Fused, args: &[ValueId]) -> Vec<ValueId> {
    args.iter()
        .filter_map(|&a| match fused.operand(a) {
            Operand::Outer(i) => Some(n.args[i]),
            Operand::Local(_) => None,
        })
        .collect()
}

/// Per node, the nodes that read it, in order.
fn readers_of(g: &Graph) -> Vec<Vec<ValueId>> {
    let mut readers: Vec<Vec<ValueId>> = vec![Vec::new(); g.nodes.len()];
    for (id, n) in g.nodes.iter().enumerate() {
        for &a in &n.args {
            readers[a].push(id);
        }
    }
    readers
}

/// The arguments of a loop it reads element by element (not a stretch's target
/// shape), by their index among its arguments.
fn read_elementwise(fused: &Fused) -> HashSet<usize> {
    fused
        .body
        .iter()
        .flat_map(|b| {
            let stretch = b.op.is_stretch();
            b.args
                .iter()
                .enumerate()
                .filter(move |&(k, _)| !(stretch && k == 1))
                .map(|(_, &x)| x)
        })
        .filter(|&x| x < fused.arity)
        .collect()
}

/// An array a loop zips, as a view of the loop's shape (bound as `shape`): the
/// array itself when it has that shape (`own`, as text, is the loop's
/// `shape_text`), else stretched to it (its shape was checked before the loop).
fn loop_view(value: &TokenStream, own: &TokenStream, shape_text: &str) -> TokenStream {
    if own.to_string() == shape_text {
        quote!(#value.view())
    } else {
        quote!(ops::stretch(&#value, &shape))
    }
}

/// The kernel an op's shape error names (`sub`, `where_`).
fn kernel_name(op: &Op) -> String {
    match op {
        Op::Binary(b) => b.name().to_string(),
        Op::Where => "where_".to_string(),
        Op::Compare(_) => "compare".to_string(),
        Op::Grad(GradOp::MaskBy(_)) => "mask".to_string(),
        other => other.name(),
    }
}

fn camel(name: &str) -> String {
    name.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            // By characters: a name may start with any letter Rust allows.
            let mut chars = s.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect()
}

fn lit_f64(v: f64) -> Literal {
    Literal::f64_unsuffixed(v)
}

impl Emitter<'_> {
    fn fn_name(&self) -> &Ident {
        &self.def.name
    }

    fn item_name(&self, suffix: &str) -> Ident {
        format_ident!("{}{}", self.fn_name(), suffix)
    }

    fn struct_name(&self, suffix: &str) -> Ident {
        format_ident!("{}{}", camel(&self.fn_name().to_string()), suffix)
    }

    fn nd(&self) -> TokenStream {
        let k = &self.krate;
        quote!(#k::ndarray)
    }

    // ------------------------------------------------------------------ names

    fn assign_names(&mut self) {
        let mut used: HashSet<String> = ["saved", "ops", "d_out", "grads"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // Input names are the function's parameters: claimed first, as they are.
        for input in &self.g.inputs {
            used.insert(input.name.clone());
        }
        // The next suffix to try per base name, so that many values of one base
        // (`d_x`, `d_x_2`, ...) take linear time, not quadratic.
        let mut next_suffix: HashMap<String, usize> = HashMap::new();
        let mut fresh = |base: String| {
            let mut name = base.clone();
            let k = next_suffix.entry(base.clone()).or_insert(2);
            while used.contains(&name) {
                name = format!("{base}_{k}");
                *k += 1;
            }
            used.insert(name.clone());
            name
        };
        let grad_of: HashMap<ValueId, ValueId> =
            self.g.grad_of.iter().map(|&(f, b)| (b, f)).collect();
        let readers = &self.readers;
        let mut names: Vec<String> = Vec::with_capacity(self.g.nodes.len());
        for (id, n) in self.g.nodes.iter().enumerate() {
            let output = self.g.outputs.iter().position(|&o| o == id);
            let name = match (&n.op, &n.name) {
                (op, None) if output.is_some() && !matches!(op, Op::Input(_) | Op::Const(_)) => {
                    if self.g.outputs.len() == 1 {
                        fresh("out".to_string())
                    } else {
                        fresh(format!("out_{}", output.unwrap_or(0)))
                    }
                }
                (Op::Input(_), Some(name)) => name.clone(),
                // The results of a call bound by a tuple pattern, what computing
                // `h` saved, and the gradients its callee gives back: `h_saved`,
                // `h_grads`, or after the callee for a tuple (`gru_saved`).
                (Op::Call(c), None) => fresh(format!("{}_out", c.name)),
                (Op::CallSaved | Op::Grad(GradOp::CallBackward), None) => {
                    let suffix = if matches!(n.op, Op::CallSaved) {
                        "saved"
                    } else {
                        "grads"
                    };
                    match self.g.call_of(id).map(|c| (c, &self.g.nodes[c])) {
                        Some((c, node)) if node.name.is_some() => {
                            fresh(format!("{}_{suffix}", names[c]))
                        }
                        Some((
                            _,
                            Node {
                                op: Op::Call(c), ..
                            },
                        )) => fresh(format!("{}_{suffix}", c.name)),
                        _ => fresh(format!("t{id}")),
                    }
                }
                (_, Some(name)) => fresh(name.clone()),
                (Op::ShapeOf, None) if n.args.len() == 1 => {
                    fresh(format!("{}_shape", names[n.args[0]]))
                }
                // The shape of a broadcast whose value was fused away: named
                // after its source expression (`f_times_c_prev_shape`).
                (Op::ShapeOf, None) => match ident_from_text(&n.text) {
                    Some(base) => fresh(format!("{base}_shape")),
                    None => fresh(format!("t{id}")),
                },
                (Op::Grad(GradOp::Seed(k)), None) => {
                    if self.g.outputs.len() == 1 {
                        "d_out".to_string()
                    } else {
                        let out = self.g.outputs[*k];
                        match &self.g.nodes[out].name {
                            Some(_) => fresh(format!("d_{}", names[out])),
                            None => fresh(format!("d_out_{k}")),
                        }
                    }
                }
                (_, None) if n.backward => match grad_of.get(&id) {
                    Some(&f) => fresh(format!("d_{}", names[f])),
                    // A term that only the gradient of `x` reads (summed back to
                    // its shape, or added to its other terms) is `d_x_part`.
                    None => match readers[id][..] {
                        [r] if grad_of.contains_key(&r) => {
                            fresh(format!("d_{}_part", names[grad_of[&r]]))
                        }
                        // The gradient of a value fused away, summed back to its
                        // shape: named after its source expression.
                        _ => match (&n.op, n.args.get(1).map(|&s| &self.g.nodes[s])) {
                            (Op::Grad(GradOp::SumTo), Some(shape))
                                if matches!(shape.op, Op::ShapeOf) =>
                            {
                                match ident_from_text(&shape.text) {
                                    Some(base) => fresh(format!("d_{base}")),
                                    None => fresh(format!("t{id}")),
                                }
                            }
                            _ => fresh(format!("t{id}")),
                        },
                    },
                },
                (_, None) => fresh(
                    self.descriptive_name(id, &names)
                        .unwrap_or(format!("t{id}")),
                ),
            };
            names.push(name);
        }
        // Every name is an identifier (a built one that is not, say a keyword,
        // falls back to its node's number): `Ident::new` would panic.
        self.names = names
            .into_iter()
            .enumerate()
            .map(|(id, n)| match syn::parse_str::<Ident>(&n) {
                Ok(_) => Ident::new(&n, Span::call_site()),
                Err(_) => format_ident!("t{id}"),
            })
            .collect();
    }

    /// A name for an unnamed forward value built from its op and its arguments'
    /// names (`x_dot_w`, `tanh_c`, `gates_slice`), when that stays short.
    fn descriptive_name(&self, id: ValueId, names: &[String]) -> Option<String> {
        let n = &self.g.nodes[id];
        // Array arguments only: literals have no useful name.
        let arg = |i: usize| {
            n.args
                .get(i)
                .filter(|&&a| !matches!(self.g.nodes[a].op, Op::Const(_)))
                .map(|&a| names[a].as_str())
        };
        let name = match &n.op {
            Op::Elementwise(e) => format!("{}_{}", e.name, arg(0)?),
            Op::Binary(op) => {
                format!("{}_{}_{}", arg(0)?, op.word(), arg(1)?)
            }
            // `1.0 - z` is `one_minus_z`, `x * 2.0` is `x_times_two`, `v + 1e-5` is `v_plus_c`.
            Op::WithScalar(op) => {
                let constant = n.args.get(1).and_then(|&c| match self.g.nodes[c].op {
                    Op::Const(c) => Some(c),
                    _ => None,
                });
                // A word, since a name may start with it (`two_over_x`).
                let c = match constant {
                    Some(1.0) => "one",
                    Some(0.5) => "half",
                    Some(2.0) => "two",
                    Some(3.0) => "three",
                    Some(10.0) => "ten",
                    _ => "c",
                };
                let x = arg(0)?;
                // The array's side: `c - x` and `c / x` put the constant first.
                let (word, constant_first) = match op {
                    ScalarOp::Add => (BinOp::Add, false),
                    ScalarOp::Sub => (BinOp::Sub, false),
                    ScalarOp::RSub => (BinOp::Sub, true),
                    ScalarOp::Mul => (BinOp::Mul, false),
                    ScalarOp::Div => (BinOp::Div, false),
                    ScalarOp::RDiv => (BinOp::Div, true),
                };
                let word = word.word();
                if constant_first {
                    format!("{c}_{word}_{x}")
                } else {
                    format!("{x}_{word}_{c}")
                }
            }
            Op::Prim(p, _) => match p.naming {
                Naming::Prefix(w) => format!("{w}_{}", arg(0)?),
                Naming::Suffix(w) => format!("{}_{w}", arg(0)?),
                Naming::Infix(w) => format!("{}_{w}_{}", arg(0)?, arg(1)?),
            },
            Op::LenOf(_) => format!("{}_len", arg(0)?),
            _ => return None,
        };
        // Built from generated names, it may nest; past a length it no longer helps.
        (name.len() <= 20 && !name.contains("__") && syn::parse_str::<Ident>(&name).is_ok())
            .then_some(name)
    }

    /// Forward values the backward reads, in graph order (constants are inlined instead).
    fn saved_values(&self) -> Vec<ValueId> {
        let mut saved = HashSet::new();
        // A backward of the user's own may read any input, whatever the derived
        // one needs (`saved.x`).
        if self.custom_backward.is_some() {
            saved.extend(self.g.inputs.iter().map(|i| i.node));
        }
        for n in self.g.nodes.iter().filter(|n| n.backward) {
            for &a in &n.args {
                let arg = &self.g.nodes[a];
                if !arg.backward && !matches!(arg.op, Op::Const(_)) {
                    saved.insert(a);
                }
            }
        }
        let mut saved: Vec<ValueId> = saved.into_iter().collect();
        saved.sort_unstable();
        saved
    }

    /// The nodes that `roots` depend on, restricted by `keep`, in graph order.
    fn closure(&self, roots: &[ValueId], keep: impl Fn(ValueId) -> bool) -> Vec<ValueId> {
        let mut live = vec![false; self.g.nodes.len()];
        let mut stack: Vec<ValueId> = roots.to_vec();
        while let Some(v) = stack.pop() {
            if live[v] || !keep(v) {
                continue;
            }
            live[v] = true;
            stack.extend(&self.g.nodes[v].args);
        }
        (0..live.len()).filter(|&v| live[v]).collect()
    }

    // ------------------------------------------------------------------ types

    fn array_ty(&self, rank: usize, elem: TokenStream) -> TokenStream {
        let nd = self.nd();
        let a = format_ident!("Array{}", rank);
        quote!(#nd::#a<#elem>)
    }

    fn value_ty(&self, ty: Ty) -> TokenStream {
        let f = &self.float;
        match ty {
            Ty::Float(r) => self.array_ty(r, f.clone()),
            Ty::Int(r) => self.array_ty(r, quote!(usize)),
            Ty::Mask(r) => self.array_ty(r, quote!(bool)),
            Ty::Scalar => f.clone(),
            Ty::Usize => quote!(usize),
            Ty::Shape(r) => self.ix(r),
            // Only a call's saved state is ever stored, with its own type (`node_ty`).
            Ty::Tuple(_) | Ty::Opaque => quote!(()),
        }
    }

    /// The call a call's node belongs to (its result, saved state, backward, or
    /// gradient), if `v` is one.
    fn callee_of(&self, v: ValueId) -> Option<&crate::ir::Callee> {
        match &self.g.nodes[self.g.call_of(v)?].op {
            Op::Call(c) => Some(c),
            _ => None,
        }
    }

    /// The type of value `v` as a field of `Saved`: a call's saved state has the
    /// callee's `Saved` type.
    fn node_ty(&self, v: ValueId) -> TokenStream {
        let n = &self.g.nodes[v];
        match (&n.op, n.args.first().map(|&c| &self.g.nodes[c].op)) {
            (Op::CallSaved, Some(Op::Call(c))) => {
                let callee = self.callee(c);
                quote!(<#callee>::Saved)
            }
            // A copy of an input or an output, shared with other `Saved`s given
            // the same values (the next time step's input is this one's output).
            _ if self.saved_copy(v) => {
                let elem = match n.ty {
                    Ty::Float(_) => self.float.clone(),
                    _ => quote!(usize),
                };
                let (k, ix) = (&self.krate, self.ix(n.ty.rank().unwrap_or(0)));
                quote!(#k::ops::SavedArray<#elem, #ix>)
            }
            _ => self.value_ty(n.ty),
        }
    }

    /// `alias as ops::Callee<T>`: the called function, through the module-level
    /// alias of its path (so that a path that is not a `#[differentiable]`
    /// function is one error, at the alias).
    fn callee(&self, c: &crate::ir::Callee) -> TokenStream {
        let (alias, k, f) = (self.call_alias(c), &self.krate, &self.float);
        quote!(#alias as #k::ops::Callee<#f>)
    }

    fn call_alias(&self, c: &crate::ir::Callee) -> Ident {
        format_ident!("__backprop_{}_call_{}", self.fn_name(), c.index)
    }

    /// For each call, at module level: the alias of the called function's
    /// path, and the constant that checks the call against the callee's
    /// signature at compile time (`ops::check_call`), at the call.
    fn call_items(&self) -> TokenStream {
        let k = &self.krate;
        let items = self.g.calls.iter().map(|(c, arg_tys)| {
            let (alias, path) = (self.call_alias(c), &c.path);
            // The arguments whose gradient the live call's backward is asked
            // for (none for a call the passes removed).
            let needs_grad: HashSet<usize> = self
                .g
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(id, m)| match (&m.op, self.callee_of(id)) {
                    (Op::Grad(GradOp::CallGrad(i)), Some(of)) if of.index == c.index => Some(*i),
                    _ => None,
                })
                .collect();
            let args = arg_tys.iter().enumerate().map(|(i, &ty)| {
                let text = c.arg_texts.get(i).cloned().unwrap_or_default();
                let (kind, grad) = (self.call_kind(ty), needs_grad.contains(&i));
                quote!((#text, #kind, #grad))
            });
            let outputs = c.outputs.iter().map(|&o| self.output_kind(o));
            let (text, caller, tuple) = (&c.text, self.fn_name().to_string(), c.tuple);
            let float = self.float_kind();
            let (first, last) = c.range;
            // The check's call spans the user's call, where rustc reports it.
            let check = Ident::new("check_call", first);
            let mut check_args = proc_macro2::Group::new(
                proc_macro2::Delimiter::Parenthesis,
                quote! {
                    &<#alias as #k::ops::CallSignature>::SIGNATURE,
                    &#k::ops::CallSite {
                        text: #text,
                        caller: #caller,
                        float: #float,
                        args: &[#(#args),*],
                        outputs: &[#(#outputs),*],
                        tuple: #tuple,
                    }
                },
            );
            check_args.set_span(last);
            quote_spanned! {first=>
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                type #alias = #path;
                const _: () = {
                    use #k::ops::check_call;
                    #check #check_args
                };
            }
        });
        quote!(#(#items)*)
    }

    /// `ops::Kind::Float(2)`: what a value of type `ty` is to a call's check.
    fn call_kind(&self, ty: Ty) -> TokenStream {
        let k = &self.krate;
        match ty {
            Ty::Float(r) => quote!(#k::ops::Kind::Float(#r)),
            Ty::Int(r) => quote!(#k::ops::Kind::Int(#r)),
            Ty::Usize => quote!(#k::ops::Kind::Usize),
            Ty::Scalar => quote!(#k::ops::Kind::Scalar),
            // Check lets only these be passed or returned.
            Ty::Mask(_) | Ty::Shape(_) | Ty::Tuple(_) | Ty::Opaque => {
                let message = crate::messages::CALL_OUTSIDE_STATEMENT;
                quote!(::core::compile_error!(#message))
            }
        }
    }

    /// What a result is to a call's check: a float array, or a scalar `T`.
    fn output_kind(&self, o: crate::ir::OutputSig) -> TokenStream {
        if o.scalar {
            self.call_kind(Ty::Scalar)
        } else {
            self.call_kind(Ty::Float(o.rank))
        }
    }

    /// `ops::FloatKind::Generic`, `F32` or `F64`: the function's float type.
    fn float_kind(&self) -> TokenStream {
        let k = &self.krate;
        match self.def.float_type {
            FloatType::Generic => quote!(#k::ops::FloatKind::Generic),
            FloatType::F32 => quote!(#k::ops::FloatKind::F32),
            FloatType::F64 => quote!(#k::ops::FloatKind::F64),
        }
    }

    /// `ndarray::IxR`.
    fn ix(&self, rank: usize) -> TokenStream {
        let (nd, ix) = (self.nd(), format_ident!("Ix{}", rank));
        quote!(#nd::#ix)
    }

    /// The statement of a call of another `#[differentiable]` function: its
    /// training forward when `saved` (binding its saved state too), else its
    /// forward. A single result is taken out at once; a tuple's results are
    /// taken out by their `CallOutput` nodes.
    fn call_statement(
        &self,
        v: ValueId,
        c: &crate::ir::Callee,
        saved: Option<ValueId>,
    ) -> TokenStream {
        let n = &self.g.nodes[v];
        let name = &self.names[v];
        let callee = self.callee(c);
        let args = n.args.iter().map(|&a| {
            let x = self.value(a, Ctx::Forward);
            match self.g.ty(a) {
                Ty::Float(_) => quote!(ops::CallArg::float(&#x)),
                Ty::Int(_) => quote!(ops::CallArg::int(&#x)),
                Ty::Usize => quote!(ops::CallArg::Usize(#x)),
                _ => quote!(ops::CallArg::scalar(#x)),
            }
        });
        let args = quote!(&[#(#args),*]);
        let take = (!c.tuple).then(|| {
            let (f, ix) = (
                &self.float,
                self.ix(c.outputs.first().map_or(0, |o| o.rank)),
            );
            quote!(let #name = ops::take::<#f, #ix>(&mut #name, 0);)
        });
        let span = n.span;
        match saved {
            Some(s) => {
                let s = &self.names[s];
                quote_spanned! {span=>
                    let (mut #name, #s) = <#callee>::train(#args);
                    #take
                }
            }
            None => quote_spanned! {span=>
                let mut #name = <#callee>::forward(#args);
                #take
            },
        }
    }

    /// The callee side: a hidden type of the function's name implementing
    /// `ops::CallSignature` and `ops::Callee`, through which another
    /// `#[differentiable]` body calls this one.
    fn callee_impl(&self) -> TokenStream {
        let (k, f, nd) = (&self.krate, &self.float, self.nd());
        let vis = &self.def.vis;
        let fname = self.fn_name();
        let name_text = fname.to_string();
        let (imp, sty, wh) = self.struct_generics();
        let (train, backward) = (self.item_name("_train"), self.item_name("_backward"));
        let saved = self.struct_name("Saved");
        let grads: HashSet<usize> = self.grad_inputs().iter().map(|&(i, _)| i).collect();
        let inputs = self.def.inputs.iter().enumerate().map(|(i, input)| {
            let name = input.name.to_string();
            let kind = self.call_kind(match input.kind {
                InputKind::Float(r, _) => Ty::Float(r),
                InputKind::Int(r, _) => Ty::Int(r),
                InputKind::Scalar => Ty::Scalar,
                InputKind::Usize => Ty::Usize,
            });
            let grad = grads.contains(&i);
            quote!(#k::ops::InputDesc { name: #name, kind: #kind, grad: #grad })
        });
        let outputs = self.def.outputs.iter().map(|&o| self.output_kind(o));
        let passed: Vec<TokenStream> = self
            .def
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let a = quote!(args[#i]);
                match input.kind {
                    InputKind::Float(r, pass) | InputKind::Int(r, pass) => {
                        let ix = self.ix(r);
                        let view = if matches!(input.kind, InputKind::Float(..)) {
                            quote!(#a.float_view::<#f, #ix>())
                        } else {
                            quote!(#a.int_view::<#ix>())
                        };
                        match pass {
                            Pass::View => view,
                            Pass::Ref => quote!(&#view.to_owned()),
                            Pass::Owned => quote!(#view.to_owned()),
                        }
                    }
                    InputKind::Scalar => quote!(#a.scalar_value::<#f>()),
                    InputKind::Usize => quote!(#a.size()),
                }
            })
            .collect();
        let ups: Vec<TokenStream> = self
            .def
            .outputs
            .iter()
            .enumerate()
            .map(|(j, o)| {
                if o.scalar {
                    quote!(#k::ops::upstream_scalar::<#f>(upstream, #j))
                } else {
                    let ix = self.ix(o.rank);
                    quote!(#k::ops::upstream::<#f, #ix>(upstream, #j))
                }
            })
            .collect();
        let up = if self.def.tuple {
            quote!((#(#ups),*))
        } else {
            quote!(#(#ups)*)
        };
        let grad_values = self.def.inputs.iter().enumerate().map(|(i, input)| {
            let name = &input.name;
            match (grads.contains(&i), input.kind) {
                (true, InputKind::Scalar) => {
                    quote!(Some(#k::ops::call_array(#nd::arr0(grads.#name))))
                }
                (true, _) => quote!(Some(#k::ops::call_array(grads.#name))),
                (false, _) => quote!(None),
            }
        });
        let (tuple, float) = (self.def.tuple, self.float_kind());
        // Implemented for every float type, a function of one float type too,
        // so that a caller of another type checks and the call's check is its
        // one error (its values then never cross).
        let (callee_generics, callee_float) = match self.def.float_type {
            FloatType::Generic => (imp.clone(), f.clone()),
            _ => (quote!(<BackpropFloat: #k::Real>), quote!(BackpropFloat)),
        };
        // The results taken apart one by one, however many there are.
        let result_parts: Vec<Ident> = (0..self.def.outputs.len())
            .map(|j| format_ident!("out_{}", j))
            .collect();
        let results = if self.def.tuple {
            quote!((#(#result_parts),*))
        } else {
            quote!(#(#result_parts)*)
        };
        // The float type named, since no input may mention it (`-> Array1<T>` from ids).
        let turbofish = match self.def.float_type {
            FloatType::Generic => quote!(::<#f>),
            _ => quote!(),
        };
        let doc = format!(
            " The function [`{name_text}`] seen by other `#[differentiable]` bodies that call it (`backprop::ops::Callee`)."
        );
        let allows = self.user_allows();
        quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #allows
            #[allow(non_camel_case_types, dead_code)]
            #vis struct #fname {}

            #allows
            impl #k::ops::CallSignature for #fname {
                const SIGNATURE: #k::ops::FnSignature = #k::ops::FnSignature {
                    name: #name_text,
                    float: #float,
                    inputs: &[#(#inputs),*],
                    outputs: &[#(#outputs),*],
                    tuple: #tuple,
                };
            }

            #allows
            #[allow(unused_variables, clippy::needless_borrow)]
            impl #callee_generics #k::ops::Callee<#callee_float> for #fname #wh {
                type Saved = #saved #sty;
                fn forward(args: &[#k::ops::CallArg<'_>]) -> ::std::vec::Vec<::std::option::Option<#k::ops::FloatArray>> {
                    let #results = #fname #turbofish(#(#passed),*);
                    ::std::vec![#(#k::ops::call_result(#result_parts)),*]
                }
                fn train(args: &[#k::ops::CallArg<'_>]) -> (::std::vec::Vec<::std::option::Option<#k::ops::FloatArray>>, Self::Saved) {
                    let (#results, saved) = #train #turbofish(#(#passed),*);
                    (::std::vec![#(#k::ops::call_result(#result_parts)),*], saved)
                }
                fn backward(saved: &Self::Saved, upstream: &[#k::ops::FloatView<'_>]) -> ::std::vec::Vec<::std::option::Option<#k::ops::FloatArray>> {
                    let grads = #backward(saved, #up);
                    ::std::vec![#(#grad_values),*]
                }
            }
        }
    }

    fn output_ty(&self) -> TokenStream {
        self.def.output.clone()
    }

    fn generics(&self) -> (TokenStream, TokenStream, TokenStream) {
        self.def.generics.clone()
    }

    /// Generics for the owned structs: the float type parameter only.
    fn struct_generics(&self) -> (TokenStream, TokenStream, TokenStream) {
        self.def.struct_generics.clone()
    }

    // ------------------------------------------------------------------ values

    fn lit(&self, v: f64) -> TokenStream {
        let l = lit_f64(v.abs());
        let body = match self.def.float_type {
            FloatType::Generic => {
                let f = &self.float;
                quote!(#f::lit(#l))
            }
            FloatType::F32 => {
                let l = Literal::f32_suffixed(v.abs() as f32);
                quote!(#l)
            }
            FloatType::F64 => {
                let l = Literal::f64_suffixed(v.abs());
                quote!(#l)
            }
        };
        if v.is_sign_negative() {
            quote!(-#body)
        } else {
            body
        }
    }

    /// The expression that reads value `v` in `ctx`.
    fn value(&self, v: ValueId, ctx: Ctx) -> TokenStream {
        let n = &self.g.nodes[v];
        if let Op::Const(c) = n.op {
            return self.lit(c);
        }
        let name = &self.names[v];
        if ctx == Ctx::Backward && !n.backward {
            quote!(saved.#name)
        } else {
            quote!(#name)
        }
    }

    /// `v` as a kernel operand: a reference to an array, or a value for scalars and sizes.
    fn operand(&self, v: ValueId, ctx: Ctx) -> TokenStream {
        let val = self.value(v, ctx);
        match self.g.ty(v) {
            Ty::Float(_) | Ty::Int(_) | Ty::Mask(_) | Ty::Tuple(_) | Ty::Opaque => quote!(&#val),
            Ty::Scalar | Ty::Usize | Ty::Shape(_) => val,
        }
    }

    /// `v` where an array is required: a scalar becomes a 0-d array.
    fn array_operand(&self, v: ValueId, ctx: Ctx) -> TokenStream {
        if self.g.ty(v) == Ty::Scalar {
            let val = self.value(v, ctx);
            quote!(&ops::scalar(#val))
        } else {
            self.operand(v, ctx)
        }
    }

    /// `ops::kernel(args...)` for node `v`, laid out as the kernel's description
    /// says (the interpreter reads the same description).
    fn kernel_call(
        &self,
        kernel: &Kernel,
        v: ValueId,
        attr: Attr,
        op: &str,
        ctx: Ctx,
    ) -> TokenStream {
        let args = self.kernel_args(kernel, v, attr, op, ctx);
        let f = format_ident!("{}", kernel.name);
        quote!(ops::#f(#(#args),*))
    }

    /// The arguments of node `v`'s call of `kernel`, in the kernel's layout.
    fn kernel_args(
        &self,
        kernel: &Kernel,
        v: ValueId,
        attr: Attr,
        op: &str,
        ctx: Ctx,
    ) -> Vec<TokenStream> {
        let n = &self.g.nodes[v];
        kernel
            .args
            .iter()
            .map(|k| match *k {
                K::Arg(i) => self.operand(n.args[i], ctx),
                K::Value(i) => self.value(n.args[i], ctx),
                K::Axis => Self::axis(attr.axis().unwrap_or(0)),
                K::Site => self.site(v, op),
            })
            .collect()
    }

    /// The constant parameters of an elementwise op, each as its kernel takes it:
    /// a float, or an `i32` for an integer parameter (a literal, or a `usize` input
    /// converted with a check).
    fn params(
        &self,
        e: &backprop_spec::Elementwise,
        args: &[ValueId],
        ctx: Ctx,
    ) -> Vec<TokenStream> {
        e.params
            .iter()
            .zip(args)
            .map(|(p, &v)| match (p.integer, &self.g.nodes[v].op) {
                (false, _) => self.value(v, ctx),
                (true, Op::Const(c)) => {
                    // Checked to be an integer in range; the sign as its own token.
                    let l = Literal::i32_unsuffixed(c.abs() as i32);
                    if *c < 0.0 { quote!(-#l) } else { quote!(#l) }
                }
                (true, _) => {
                    let n = self.value(v, ctx);
                    quote!(ops::powi_exponent(#n))
                }
            })
            .collect()
    }

    fn site(&self, v: ValueId, op: &str) -> TokenStream {
        self.site_of(&self.g.nodes[v], op)
    }

    /// The `Site` of a node, for a kernel's shape error: an entry of the body's
    /// `SITES` table (one per distinct site).
    fn site_of(&self, n: &Node, op: &str) -> TokenStream {
        let text = if n.text.is_empty() {
            op.to_string()
        } else {
            n.text.clone()
        };
        let (line, col) = place(n.span);
        let site = quote!(ops::Site::new(#op, #text, file!(), #line, #col));
        let key = site.to_string();
        let mut sites = self.sites.borrow_mut();
        let k = match sites.iter().position(|(s, _)| *s == key) {
            Some(k) => k,
            None => {
                sites.push((key, site));
                sites.len() - 1
            }
        };
        let k = Literal::usize_unsuffixed(k);
        quote!(&SITES[#k])
    }

    /// The `SITES` table of the body whose statements were just made, which
    /// starts the next body's table afresh.
    fn take_sites(&self) -> TokenStream {
        let sites: Vec<TokenStream> = self.sites.take().into_iter().map(|(_, s)| s).collect();
        if sites.is_empty() {
            return quote!();
        }
        quote!(const SITES: &[ops::Site] = &[#(#sites),*];)
    }

    fn axis(k: usize) -> TokenStream {
        let k = Literal::usize_unsuffixed(k);
        quote!(ops::Axis(#k))
    }

    /// The right-hand side computing node `v`: one kernel call for every op but
    /// the few that are plain Rust (sizes, scalar arithmetic, copies).
    fn rhs(&self, v: ValueId, ctx: Ctx) -> TokenStream {
        let n = &self.g.nodes[v];
        // Arguments as kernel operands (`&array`, or a value for scalars, sizes and shapes).
        let a = |i: usize| self.operand(n.args[i], ctx);
        // Arguments where an array is required (a scalar becomes a 0-d array).
        let arr = |i: usize| self.array_operand(n.args[i], ctx);
        let val = |i: usize| self.value(n.args[i], ctx);
        let all = |from: usize| (from..n.args.len()).map(a).collect::<Vec<_>>();
        let site = |op: &str| self.site(v, op);
        let call = |kernel: &str, args: Vec<TokenStream>| {
            let f = format_ident!("{}", kernel);
            quote!(ops::#f(#(#args),*))
        };
        let ax = |k: &usize| Self::axis(*k);
        let infix = |op: &str| {
            let (l, r) = (val(0), val(1));
            let op: TokenStream = op.parse().expect("an operator");
            quote!(#l #op #r)
        };
        let arith = |op: UsizeOp| match op {
            UsizeOp::Add => "+",
            UsizeOp::Sub => "-",
            UsizeOp::Mul => "*",
            UsizeOp::Div => "/",
        };
        match &n.op {
            Op::Input(_) | Op::Const(_) | Op::Grad(GradOp::Seed(_)) => self.value(v, ctx),
            Op::UsizeConst(c) => Literal::usize_unsuffixed(*c).to_token_stream(),
            // A typed call rather than `unreachable!()`, so that the code after it
            // is not reported as unreachable beside the real errors.
            Op::Unavailable => {
                let ty = self.value_ty(n.ty);
                quote!(ops::unavailable::<#ty>())
            }
            Op::LenOf(k) => {
                let (x, ax) = (val(0), ax(k));
                quote!(#x.len_of(#ax))
            }
            Op::UsizeArith(op) => infix(arith(*op)),
            Op::ScalarArith(BinOp::Maximum) => {
                let (l, r) = (val(0), val(1));
                quote!(#l.max(#r))
            }
            Op::ScalarArith(BinOp::Minimum) => {
                let (l, r) = (val(0), val(1));
                quote!(#l.min(#r))
            }
            Op::ScalarArith(op) => infix(match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                _ => "/",
            }),
            Op::StopGradient => {
                let x = val(0);
                quote!(#x.to_owned())
            }
            Op::ShapeOf if n.args.len() == 1 => {
                let x = val(0);
                quote!(#x.raw_dim())
            }
            Op::ShapeOf => {
                let shapes = (0..n.args.len()).map(|i| {
                    let x = val(i);
                    quote!(#x.shape())
                });
                let ix = format_ident!("Ix{}", n.ty.rank().unwrap_or(0));
                let nd = self.nd();
                quote!(ops::broadcast_shape_of::<#nd::#ix>(&[#(#shapes),*]))
            }
            Op::Grad(GradOp::Zeros) => {
                let (nd, shape, f) = (self.nd(), a(0), &self.float);
                quote!(#nd::Array::<#f, _>::zeros(#shape))
            }
            Op::Fused(fused) => self.fused(v, fused, ctx),
            // Bound by the call's own statement (`call_statement`).
            Op::Call(_) | Op::CallSaved => {
                let message = crate::messages::CALL_OUTSIDE_STATEMENT;
                quote!(::core::compile_error!(#message))
            }
            Op::CallOutput(k) => {
                let (call, ix, f) = (val(0), self.ix(n.ty.rank().unwrap_or(0)), &self.float);
                let k = Literal::usize_unsuffixed(*k);
                quote!(ops::take::<#f, #ix>(&mut #call, #k))
            }
            // The callee's backward on what its training forward saved, given the
            // gradient of each of its results.
            Op::Grad(GradOp::CallBackward) => {
                let saved = val(0);
                let Some(c) = self.callee_of(v) else {
                    let message = crate::messages::CALL_OUTSIDE_STATEMENT;
                    return quote!(::core::compile_error!(#message));
                };
                let ups = n.args[1..].iter().map(|&u| {
                    let u = self.value(u, ctx);
                    quote!(ops::call_view(&#u))
                });
                let callee = self.callee(c);
                quote!(<#callee>::backward(&#saved, &[#(#ups),*]))
            }
            Op::Grad(GradOp::CallGrad(i)) => {
                let (grads, ix, f) = (val(0), self.ix(n.ty.rank().unwrap_or(0)), &self.float);
                let i = Literal::usize_unsuffixed(*i);
                quote!(ops::take::<#f, #ix>(&mut #grads, #i))
            }
            // Elementwise: `op(&x, params)`; derivative: `op_backward(reads..., &g, params)`.
            Op::Elementwise(e) => call(
                e.name,
                [vec![a(0)], self.params(e, &n.args[1..], ctx)].concat(),
            ),
            Op::Grad(GradOp::ElementwiseGrad(e)) => {
                let reads = n.args.len() - e.params.len();
                let params = self.params(e, &n.args[reads..], ctx);
                call(
                    &format!("{}_backward", e.name),
                    [(0..reads).map(a).collect(), params].concat(),
                )
            }
            Op::Binary(op) => call(op.name(), vec![arr(0), arr(1), site(op.name())]),
            Op::WithScalar(op @ (ScalarOp::RSub | ScalarOp::RDiv)) => {
                call(op.kernel(), vec![val(1), a(0)])
            }
            Op::WithScalar(op) => call(op.kernel(), vec![a(0), val(1)]),
            Op::Compare(cmp) => {
                let c = format_ident!("{}", format!("{cmp:?}"));
                call(
                    "compare",
                    vec![arr(0), arr(1), quote!(ops::Compare::#c), site("compare")],
                )
            }
            Op::Grad(GradOp::MaskBy(cmp)) => call(
                &format!("mask_{}", format!("{cmp:?}").to_lowercase()),
                vec![arr(0), arr(1), site("mask")],
            ),
            Op::Grad(GradOp::MaskGrad(keep)) => call("mask_grad", vec![a(0), a(1), quote!(#keep)]),
            Op::Where => call("where_", vec![a(0), arr(1), arr(2), site("where_")]),
            // A temporary read only here is given away, so that an equal-shape
            // sum_to moves it instead of copying it.
            Op::Grad(GradOp::SumTo) if self.moves_into_sum_to(v) => {
                let (g, shape) = (val(0), a(1));
                call("sum_to_owned", vec![g, shape])
            }
            // Borrows its operand when the shapes turn out equal (a bias added
            // to an array of the same shape, which only run time knows).
            Op::Grad(GradOp::SumTo) if self.borrows_in_sum_to(v) => call("sum_to_cow", all(0)),
            Op::Grad(GradOp::SumTo) => call("sum_to", all(0)),
            Op::Prim(p, attr) => self.kernel_call(&p.kernel, v, *attr, p.op, ctx),
            Op::Grad(GradOp::PrimGrad(p, i, attr)) => match p.grads.get(*i) {
                Some(grad) => self.kernel_call(&grad.kernel, v, *attr, p.op, ctx),
                // `verify` rejects such a node before emission.
                None => {
                    let message = crate::messages::MISSING_DERIVATIVE;
                    quote!(::core::compile_error!(#message))
                }
            },
            Op::Concat(k) => {
                // `&*part` is a `&ArrayRef`, the element type the kernel's slice needs.
                let parts = (0..n.args.len()).map(|i| {
                    let p = val(i);
                    quote!(&*#p)
                });
                call(
                    "concatenate",
                    vec![ax(k), quote!(&[#(#parts),*]), site("concatenate")],
                )
            }
            Op::Grad(GradOp::ConcatGrad(k, i)) => {
                let axis = Literal::usize_unsuffixed(*k);
                let lens = (1..n.args.len()).map(|j| {
                    let shape = val(j);
                    quote!(#shape[#axis])
                });
                let i = Literal::usize_unsuffixed(*i);
                call(
                    "concatenate_backward",
                    vec![a(0), ax(k), quote!(&[#(#lens),*]), quote!(#i)],
                )
            }
        }
    }

    /// A fused loop: the parameter and shape checks its ops' own kernels would
    /// make, then one `Zip` over its array operands whose closure computes each
    /// body node as one line of per-element Rust.
    fn fused(&self, v: ValueId, fused: &Fused, ctx: Ctx) -> TokenStream {
        let n = &self.g.nodes[v];
        let nd = self.nd();
        // A loop with a transcendental function does enough work per element to
        // be split over threads (`par_`); one of plain arithmetic is bound by memory.
        let costly = fused.body.iter().any(|b| match &b.op {
            Op::Elementwise(e) | Op::Grad(GradOp::ElementwiseGrad(e)) => e.costly,
            _ => false,
        });
        let par = if costly { "par_" } else { "" };
        let mut before: Vec<TokenStream> = Vec::new();
        // Per operand (arguments, then body nodes): its shape as an expression
        // (`None` for scalars and 0-d arrays, which broadcast anywhere) and how the
        // closure reads one element of it.
        let mut shapes: Vec<Option<TokenStream>> = Vec::new();
        let mut elems: Vec<TokenStream> = Vec::new();
        // Arrays the loop zips over: (expression, closure parameter, shape).
        let mut producers: Vec<(TokenStream, Ident, TokenStream)> = Vec::new();
        let read_elementwise = read_elementwise(fused);
        for (i, &a) in n.args.iter().enumerate() {
            let value = self.value(a, ctx);
            let name = self.names[a].clone();
            match self.g.ty(a) {
                Ty::Float(0) => {
                    before.push(quote!(let #name = #value[()];));
                    shapes.push(None);
                    elems.push(quote!(#name));
                }
                Ty::Float(_) | Ty::Mask(_) | Ty::Int(_) => {
                    let shape = quote!(#value.raw_dim());
                    // Only arrays read element by element are zipped.
                    if read_elementwise.contains(&i) {
                        producers.push((value, name.clone(), shape.clone()));
                    }
                    shapes.push(Some(shape));
                    elems.push(quote!(#name));
                }
                Ty::Shape(_) => {
                    shapes.push(Some(value.clone()));
                    elems.push(value);
                }
                // A call's values are never operands of a loop.
                Ty::Scalar | Ty::Usize | Ty::Tuple(_) | Ty::Opaque => {
                    shapes.push(None);
                    elems.push(value);
                }
            }
        }
        let mut lines: Vec<TokenStream> = Vec::new();
        let mut used: HashSet<String> = elems.iter().map(|e| e.to_string()).collect();
        for (j, b) in fused.body.iter().enumerate() {
            // A body node's argument is already an index into the operands
            // (the loop's arguments, then its body nodes).
            let ops: &[usize] = &b.args;
            // The result's shape: a stretch's target; else its operands', checked
            // to broadcast where they may differ.
            let arrays: Vec<TokenStream> = ops.iter().filter_map(|&k| shapes[k].clone()).collect();
            let shape = if b.op.is_stretch() {
                shapes[ops[1]].clone()
            } else if fused.checks[j] && arrays.len() > 1 {
                let site = self.site_of(b, &kernel_name(&b.op));
                let join = |parts: Vec<TokenStream>| {
                    parts.split_first().map(|(first, rest)| {
                        rest.iter().fold(
                            first.clone(),
                            |acc, s| quote!(ops::broadcast_dims(&#acc, &#s, #site)),
                        )
                    })
                };
                let joined = match &b.op {
                    // `where_`: the values together, then the mask to them.
                    Op::Where => {
                        let values =
                            join(ops[1..].iter().filter_map(|&k| shapes[k].clone()).collect());
                        match (shapes[ops[0]].clone(), values) {
                            (Some(m), Some(v)) => {
                                Some(quote!(ops::broadcast_mask_dims(&#m, &#v, #site)))
                            }
                            (m, v) => m.or(v),
                        }
                    }
                    _ => join(arrays),
                };
                joined.map(|joined| {
                    let id = format_ident!("shape_{}", j);
                    before.push(quote!(let #id = #joined;));
                    quote!(#id)
                })
            } else {
                arrays.into_iter().next()
            };
            shapes.push(shape);
            // Parameters checked once, as the op's kernel checks them.
            if let Op::Elementwise(e) = &b.op
                && let Some(check) = e.check
            {
                let check = format_ident!("{}", check);
                let params = self.params(e, &n_args(n, fused, &b.args[1..]), ctx);
                before.push(quote!(ops::#check(#(#params),*);));
            }
            // A reduction ends the loop: the elements before it are added up.
            if b.op.reduction().is_some() {
                continue;
            }
            // The operands' names in the loop, for a name built from them.
            let operand_names: Vec<String> = ops.iter().map(|&k| elems[k].to_string()).collect();
            let name = self.body_name(b, j, &operand_names, &mut used);
            let expr = self.element(
                b,
                fused,
                n,
                &ops.iter().map(|&k| elems[k].clone()).collect::<Vec<_>>(),
                ctx,
            );
            lines.push(quote!(let #name = #expr;));
            elems.push(quote!(#name));
        }
        let result = elems.last().cloned().unwrap_or_default();
        let body = quote!({ #(#lines)* #result });
        // `verify` rejects an empty loop before emission.
        let Some(reduced) = fused.result() else {
            return quote!(::core::compile_error!(
                "internal error: an empty fused loop"
            ));
        };
        if let Some(reduction) = reduced.op.reduction() {
            // The shape of the elements the reduction adds up (the node before it).
            let shape = shapes
                .iter()
                .rev()
                .nth(1)
                .cloned()
                .flatten()
                .unwrap_or_default();
            let target = reduced.args.get(1).map(|&k| elems[k].clone());
            return self.reducing_loop((reduction, target), before, &producers, shape, body, par);
        }
        let Some(shape) = shapes.last().cloned().flatten() else {
            return quote!({ #(#before)* ops::scalar(#body) });
        };
        if producers.is_empty() {
            return quote!({ #(#before)* #nd::Array::from_elem(#shape, #body) });
        }
        // A temporary nothing reads after the loop lends it its buffer: it is
        // zipped first and given away (`zip_mapN_into`).
        if let Some(a) = self.reused_operand(v) {
            let name = &self.names[a];
            let first = producers.iter().position(|(_, p, _)| p == name);
            if let Some(first) = first {
                let reused = producers.remove(first);
                let shape_text = shape.to_string();
                before.push(quote!(let shape = #shape;));
                let zipped = producers.iter().map(|(value, _, own)| {
                    let view = loop_view(value, own, &shape_text);
                    quote!(&#view)
                });
                let params = std::iter::once(&reused.1).chain(producers.iter().map(|p| &p.1));
                let map = format_ident!("{par}zip_map{}_into", producers.len() + 1);
                let owner = reused.0;
                return quote!({
                    #(#before)*
                    ops::#map(#owner, &shape, #(#zipped,)* #[inline(always)] |#(#params),*| #body)
                });
            }
        }
        // Arrays of the loop's own shape are zipped as they are; the others are
        // stretched to it (their shapes were checked above).
        let shape_text = shape.to_string();
        let stretched = producers
            .iter()
            .any(|(_, _, own)| own.to_string() != shape_text);
        if stretched {
            before.push(quote!(let shape = #shape;));
        }
        let zipped: Vec<TokenStream> = producers
            .iter()
            .map(|(value, _, own)| {
                let view = loop_view(value, own, &shape_text);
                quote!(&#view)
            })
            .collect();
        let params = producers.iter().map(|(_, name, _)| name);
        let map = format_ident!("{par}zip_map{}", producers.len());
        quote!({
            #(#before)*
            ops::#map(#(#zipped),*, #[inline(always)] |#(#params),*| #body)
        })
    }

    /// A loop that ends in a reduction (into `target` for a `sum_to`): its
    /// elements are computed a block of rows at a time into a small buffer, and
    /// each block is added into the result.
    fn reducing_loop(
        &self,
        (reduction, target): (Reduction, Option<TokenStream>),
        before: Vec<TokenStream>,
        producers: &[(TokenStream, Ident, TokenStream)],
        shape: TokenStream,
        body: TokenStream,
        par: &str,
    ) -> TokenStream {
        let nd = self.nd();
        let f = &self.float;
        let shape_text = shape.to_string();
        // Each array as a view of the loop's shape, sliced per block below.
        let views = producers.iter().map(|(value, name, own)| {
            let view = loop_view(value, own, &shape_text);
            quote!(let #name = #view;)
        });
        let rows = producers
            .iter()
            .map(|(_, name, _)| quote!(#name.slice_axis(ops::Axis(0), rows)));
        let params = producers.iter().map(|(_, name, _)| name);
        let fill = format_ident!("zip_fill{}", producers.len());
        let reduce = format_ident!("{par}reduce_blocks");
        let compute = if producers.is_empty() {
            quote!(part.fill(#body))
        } else {
            quote!(ops::#fill(part, #(&#rows),*, #[inline(always)] |#(#params),*| #body))
        };
        let init = match reduction {
            Reduction::Sum | Reduction::Mean => quote!(#nd::Array0::<#f>::zeros(())),
            Reduction::SumTo => quote!(#nd::Array::<#f, _>::zeros(#target)),
            Reduction::SumAxis0 | Reduction::MeanAxis0 => {
                quote!(#nd::Array::<#f, _>::zeros(ops::without_axis0(&shape)))
            }
        };
        let mean = match reduction {
            Reduction::Mean => quote!(ops::divide_by(&mut acc, ops::elements(&shape));),
            Reduction::MeanAxis0 => quote!(ops::divide_by(&mut acc, shape[0]);),
            _ => quote!(),
        };
        quote!({
            #(#before)*
            let shape = #shape;
            #(#views)*
            let mut acc = #init;
            ops::#reduce(&mut acc, &shape, |rows, part| #compute);
            #mean
            acc
        })
    }

    /// A body node's name in the loop: the user's name where it has one, else one
    /// built from its op and its operands' names (`x_hat_over_std`), else `v{j}`.
    fn body_name(
        &self,
        b: &Node,
        j: usize,
        operands: &[String],
        used: &mut HashSet<String>,
    ) -> Ident {
        let operand = |i: usize| {
            operands
                .get(i)
                .filter(|o| syn::parse_str::<Ident>(o).is_ok())
                .map(String::as_str)
        };
        let built = || -> Option<String> {
            let name = match &b.op {
                Op::Binary(op) => format!("{}_{}_{}", operand(0)?, op.word(), operand(1)?),
                Op::Elementwise(e) => format!("{}_{}", e.name, operand(0)?),
                _ => return None,
            };
            (name.len() <= 20 && syn::parse_str::<Ident>(&name).is_ok()).then_some(name)
        };
        let base = b
            .name
            .clone()
            .or_else(built)
            .unwrap_or_else(|| format!("v{j}"));
        let mut name = base.clone();
        let mut k = 2;
        while used.contains(&name) || ["saved", "ops", "shape"].contains(&name.as_str()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        used.insert(name.clone());
        format_ident!("{}", name)
    }

    /// One element of a body node, from one element of each operand.
    fn element(
        &self,
        b: &Node,
        fused: &Fused,
        n: &Node,
        ops: &[TokenStream],
        ctx: Ctx,
    ) -> TokenStream {
        let one = self.lit(1.0);
        let zero = self.lit(0.0);
        let (a0, a1) = (
            ops.first().cloned().unwrap_or_default(),
            ops.get(1).cloned().unwrap_or_default(),
        );
        let cmp = |c: &Compare| -> TokenStream {
            match c {
                Compare::Gt => quote!(>),
                Compare::Ge => quote!(>=),
                Compare::Lt => quote!(<),
                Compare::Le => quote!(<=),
                Compare::Eq => quote!(==),
                Compare::Ne => quote!(!=),
            }
        };
        match &b.op {
            Op::Elementwise(e) if e.name == "neg" => quote!(-#a0),
            Op::Grad(GradOp::ElementwiseGrad(e)) if e.name == "neg" => quote!(-#a0),
            Op::Elementwise(e) => {
                let f = format_ident!("{}", e.name);
                let params = self.params(e, &n_args(n, fused, &b.args[1..]), ctx);
                quote!(ops::elem::#f(#a0 #(, #params)*))
            }
            Op::Grad(GradOp::ElementwiseGrad(e)) => {
                let f = format_ident!("{}_backward", e.name);
                let reads = b.args.len() - e.params.len();
                let params = self.params(e, &n_args(n, fused, &b.args[reads..]), ctx);
                let reads = &ops[..reads];
                quote!(ops::elem::#f(#(#reads),* #(, #params)*))
            }
            Op::Binary(BinOp::Add) => quote!(#a0 + #a1),
            Op::Binary(BinOp::Sub) => quote!(#a0 - #a1),
            Op::Binary(BinOp::Mul) => quote!(#a0 * #a1),
            Op::Binary(BinOp::Div) => quote!(#a0 / #a1),
            // As the kernels define them: ties (and NaN in `b`) go to `a`.
            Op::Binary(BinOp::Maximum) => quote!(if #a0 >= #a1 { #a0 } else { #a1 }),
            Op::Binary(BinOp::Minimum) => quote!(if #a0 <= #a1 { #a0 } else { #a1 }),
            Op::WithScalar(ScalarOp::Add) => quote!(#a0 + #a1),
            Op::WithScalar(ScalarOp::Sub) => quote!(#a0 - #a1),
            Op::WithScalar(ScalarOp::RSub) => quote!(#a1 - #a0),
            Op::WithScalar(ScalarOp::Mul) => quote!(#a0 * #a1),
            Op::WithScalar(ScalarOp::Div) => quote!(#a0 / #a1),
            Op::WithScalar(ScalarOp::RDiv) => quote!(#a1 / #a0),
            Op::Compare(c) => {
                let c = cmp(c);
                quote!(#a0 #c #a1)
            }
            Op::Grad(GradOp::MaskBy(c)) => {
                let c = cmp(c);
                quote!(if #a0 #c #a1 { #one } else { #zero })
            }
            Op::Where => {
                let a2 = &ops[2];
                quote!(if #a0 { #a1 } else { #a2 })
            }
            Op::Grad(GradOp::MaskGrad(true)) => quote!(if #a0 { #a1 } else { #zero }),
            Op::Grad(GradOp::MaskGrad(false)) => quote!(if #a0 { #zero } else { #a1 }),
            // A stretch that divides: by the length of axis 0, computed before the loop.
            op if op.stretch_divides() => {
                let shape = &ops[1];
                quote!(ops::over_len0(#a0, &#shape))
            }
            // Identities on one element: stop_gradient, and the stretches.
            _ => a0,
        }
    }

    /// `let name = rhs;` for every node in `nodes` that needs a statement.
    fn statements(&self, nodes: &[ValueId], ctx: Ctx) -> Vec<(ValueId, TokenStream)> {
        nodes
            .iter()
            .filter(|&&v| {
                !matches!(
                    self.g.nodes[v].op,
                    Op::Input(_) | Op::Const(_) | Op::Grad(GradOp::Seed(_)) | Op::CallSaved
                )
            })
            .map(|&v| {
                // A call binds its saved state too, where it is saved.
                if let Op::Call(c) = &self.g.nodes[v].op {
                    let saved = nodes.iter().copied().find(|&s| {
                        matches!(self.g.nodes[s].op, Op::CallSaved) && self.g.nodes[s].args == [v]
                    });
                    return (v, self.call_statement(v, c, saved));
                }
                let name = &self.names[v];
                let rhs = self.rhs(v, ctx);
                let span = self.g.nodes[v].span;
                // A callee's gradients are taken out one by one.
                if matches!(self.g.nodes[v].op, Op::Grad(GradOp::CallBackward)) {
                    return (v, quote_spanned!(span=> let mut #name = #rhs;));
                }
                (v, quote_spanned!(span=> let #name = #rhs;))
            })
            .collect()
    }

    // ------------------------------------------------------------------ items

    /// Inputs whose declared type is a float scalar that takes a gradient: turned
    /// into 0-d arrays at the top of the body.
    /// The statements with the non-finite guard after each array they compute,
    /// and first on the `entry` values (the array inputs, or the upstream
    /// gradients): `ops::guard` checks only while the guard is on, against an
    /// entry of the function's `ORIGINS` table (value, op, forward expression,
    /// location), with the shapes of the operands.
    fn guarded(
        &self,
        stmts: &[(ValueId, TokenStream)],
        entry: &[ValueId],
        ctx: Ctx,
    ) -> Vec<TokenStream> {
        let mut origins = Vec::new();
        let mut code = Vec::new();
        let mut origin = |v: ValueId, op: String| {
            let n = &self.g.nodes[v];
            let (line, col) = place(n.span);
            let value = self.names[v].to_string();
            let expr = match &n.op {
                // A loop names every expression it computes, with its place.
                Op::Fused(f) => {
                    // (A set for the repeats: a loop may have thousands of nodes.)
                    let mut seen: HashSet<String> = HashSet::new();
                    let mut parts: Vec<String> = Vec::new();
                    for b in &f.body {
                        let at = b.span.start();
                        let part = format!("`{}` ({}:{})", b.text, at.line, at.column + 1);
                        if !b.text.is_empty() && seen.insert(part.clone()) {
                            parts.push(part);
                        }
                    }
                    parts.join(", ")
                }
                _ if n.text.is_empty() => value.clone(),
                _ => n.text.clone(),
            };
            let backward = n.backward;
            origins.push(
                quote!(ops::Origin::new(#value, #op, #expr, file!(), #line, #col, #backward)),
            );
            Literal::usize_unsuffixed(origins.len() - 1)
        };
        for &v in entry {
            let kind = if self.g.nodes[v].backward {
                "upstream gradient"
            } else {
                "input"
            };
            let k = origin(v, kind.to_string());
            let var = &self.names[v];
            code.push(quote!(ops::guard(&#var, &ORIGINS[#k], &[]);));
        }
        for (v, stmt) in stmts {
            code.push(stmt.clone());
            let n = &self.g.nodes[*v];
            if !matches!(n.ty, Ty::Float(_)) {
                continue;
            }
            let op = match (&n.op, self.callee_of(*v)) {
                (Op::Fused(_), _) => "a fused loop".to_string(),
                (Op::Grad(GradOp::CallGrad(_)), Some(c)) => {
                    crate::messages::call_gradient_origin(&c.name)
                }
                (_, Some(c)) => format!("`{}`", c.name),
                (other, None) => format!("`{}`", kernel_name(other)),
            };
            let k = origin(*v, op);
            // An operand given away (to `sum_to_owned`, or as a loop's buffer)
            // leaves no shape to read.
            let moved = self.moved_operand(*v);
            let operands = n
                .args
                .iter()
                .filter(|&&a| matches!(self.g.ty(a), Ty::Float(_)) && Some(a) != moved)
                .map(|&a| {
                    let x = self.value(a, ctx);
                    quote!(#x.shape())
                });
            let var = &self.names[*v];
            code.push(quote!(ops::guard(&#var, &ORIGINS[#k], &[#(#operands),*]);));
        }
        if !origins.is_empty() {
            code.insert(0, quote!(const ORIGINS: &[ops::Origin] = &[#(#origins),*];));
        }
        code.insert(0, self.take_sites());
        code
    }

    /// The float array inputs, which the forward guards first.
    fn array_inputs(&self) -> Vec<ValueId> {
        self.g
            .inputs
            .iter()
            .filter(|i| matches!(i.ty, Ty::Float(_)))
            .map(|i| i.node)
            .collect()
    }

    fn scalar_prologue(&self) -> Vec<TokenStream> {
        self.def
            .inputs
            .iter()
            .filter(|i| i.kind == InputKind::Scalar && !i.no_grad)
            .map(|i| {
                let name = &i.name;
                quote!(let #name = ops::scalar(#name);)
            })
            .collect()
    }

    fn output_exprs(&self, moved: bool) -> TokenStream {
        let outs: Vec<TokenStream> = self
            .g
            .outputs
            .iter()
            .enumerate()
            .map(|(k, &o)| {
                let name = &self.names[o];
                let is_input = matches!(self.g.nodes[o].op, Op::Input(_));
                // A value returned twice (`(y, y)`, or two outputs CSE merged) is
                // copied, and moved where it appears last (a tuple is built left to right).
                let repeated = self.g.outputs[k + 1..].contains(&o);
                let value = if is_input || !moved || repeated {
                    quote!(#name.to_owned())
                } else {
                    quote!(#name)
                };
                if self.scalar_output(k) {
                    quote!(#value.into_scalar())
                } else {
                    value
                }
            })
            .collect();
        if self.def.tuple {
            quote!((#(#outs),*))
        } else {
            quote!(#(#outs)*)
        }
    }

    /// The user's `#[allow(...)]` attributes on the function, given to every item
    /// generated from it, so that allowing a lint on the function (`dead_code` in a
    /// binary, a clippy lint) covers what was generated too.
    fn user_allows(&self) -> &TokenStream {
        &self.def.allows
    }

    /// Whether output `k` is declared as a scalar `T` (not an array, `Array0<T>` included).
    fn scalar_output(&self, k: usize) -> bool {
        self.def.outputs.get(k).is_some_and(|o| o.scalar)
    }

    fn forward_fn(&self) -> TokenStream {
        let krate = &self.krate;
        let (attrs, vis, sig) = (&self.def.attrs, &self.def.vis, &self.def.sig);
        let nodes = self.closure(&self.g.outputs, |v| {
            !self.g.nodes[v].backward && !matches!(self.g.nodes[v].op, Op::ShapeOf)
        });
        let stmts = self.guarded(
            &self.statements(&nodes, Ctx::Forward),
            &self.array_inputs(),
            Ctx::Forward,
        );
        let prologue = self.scalar_prologue();
        let out = self.output_exprs(true);
        let warnings = &self.warnings;
        let (train, backward) = (self.item_name("_train"), self.item_name("_backward"));
        let doc = format!(
            " Generated by `#[differentiable]`: [`{train}`] also returns what the backward pass needs, and [`{backward}`] \
             (whose documentation shows its source) computes the gradients."
        );
        quote! {
            #attrs
            #[doc = ""]
            #[doc = #doc]
            #[allow(clippy::let_and_return, clippy::needless_borrow, clippy::redundant_clone, unused_variables)]
            #vis #sig {
                #warnings
                #[allow(unused_imports)]
                use #krate::ops;
                #(#prologue)*
                #(#stmts)*
                #out
            }
        }
        .to_token_stream()
    }

    /// Whether the `sum_to` node `v` moves its operand, a temporary it reads last.
    /// The operand node `v` takes by move, if any: what `sum_to_owned` sums, or
    /// the temporary whose buffer a loop writes over.
    fn moved_operand(&self, v: ValueId) -> Option<ValueId> {
        let n = &self.g.nodes[v];
        if self.moves_into_sum_to(v) {
            return n.args.first().copied();
        }
        self.reused_operand(v)
    }

    /// For a fused loop `v` that maps (no reduction) to a float array, the first
    /// operand it may write its result over: a temporary of the same
    /// rank that the loop reads element by element, that an op returning a new
    /// array made, and that `v` reads last, after readers that only borrowed it
    /// while they ran. The kernel reuses the buffer when the shapes agree at run
    /// time and allocates otherwise, so only ownership is decided here.
    fn reused_operand(&self, v: ValueId) -> Option<ValueId> {
        let n = &self.g.nodes[v];
        let Op::Fused(fused) = &n.op else {
            return None;
        };
        let rank = match n.ty {
            Ty::Float(r) if r > 0 => r,
            _ => return None,
        };
        if fused.result()?.op.reduction().is_some() {
            return None;
        }
        let read = read_elementwise(fused);
        n.args.iter().enumerate().find_map(|(i, &a)| {
            let fits = read.contains(&i)
                && self.g.ty(a) == Ty::Float(rank)
                && self.last_reader[a] == Some(v)
                && n.args.iter().filter(|&&b| b == a).count() == 1
                && self.makes_new_array(a);
            fits.then_some(a)
        })
    }

    /// Whether node `v`'s code returns a new owned array (not a view, a `Cow`
    /// or a call's value).
    fn makes_new_array(&self, v: ValueId) -> bool {
        // The matrix products, forward and backward, return new matrices.
        let product = |k: &Kernel| matches!(k.name, "dot_mm" | "dot_mt" | "dot_tm");
        match &self.g.nodes[v].op {
            Op::Fused(_)
            | Op::Binary(_)
            | Op::WithScalar(_)
            | Op::Elementwise(_)
            | Op::Grad(GradOp::ElementwiseGrad(_)) => true,
            Op::Grad(GradOp::SumTo) => !self.borrows_in_sum_to(v),
            Op::Prim(p, _) => product(&p.kernel),
            Op::Grad(GradOp::PrimGrad(p, i, _)) => {
                p.grads.get(*i).is_some_and(|g| product(&g.kernel))
            }
            _ => false,
        }
    }

    /// Per node, whether it is a float array this function makes and drops: in
    /// the backward, neither a gradient it returns nor a seed; in the forward,
    /// neither an output nor saved.
    fn temporaries(&self) -> Vec<bool> {
        let returned: HashSet<ValueId> = self.g.grads.iter().flatten().copied().collect();
        let kept: HashSet<ValueId> = self.g.outputs.iter().chain(&self.saved).copied().collect();
        self.g
            .nodes
            .iter()
            .enumerate()
            .map(|(v, n)| {
                matches!(n.ty, Ty::Float(_))
                    && if n.backward {
                        !returned.contains(&v) && !matches!(n.op, Op::Grad(GradOp::Seed(_)))
                    } else {
                        !kept.contains(&v)
                    }
            })
            .collect()
    }

    /// For each backward temporary, its reader when it has exactly one (which
    /// may then take it by move).
    fn sole_readers(&self) -> Vec<Option<ValueId>> {
        let temporary = self.temporaries();
        (0..self.g.nodes.len())
            .map(|v| match self.readers[v].as_slice() {
                [only] if self.g.nodes[v].backward && temporary[v] => Some(*only),
                _ => None,
            })
            .collect()
    }

    /// Per temporary whose every reader makes a new array from it without
    /// keeping a borrow, its last reader: the place after which its buffer is
    /// free.
    fn last_readers(&self) -> Vec<Option<ValueId>> {
        let temporary = self.temporaries();
        (0..self.g.nodes.len())
            .map(|v| {
                let readers = &self.readers[v];
                let borrows_only = readers.iter().all(|&r| self.makes_new_array(r));
                let last = readers.iter().copied().max()?;
                (temporary[v] && borrows_only).then_some(last)
            })
            .collect()
    }

    fn moves_into_sum_to(&self, v: ValueId) -> bool {
        let n = &self.g.nodes[v];
        match (&n.op, n.args.first()) {
            (Op::Grad(GradOp::SumTo), Some(&operand)) => {
                self.last_use[operand] == Some(v) && !self.borrows_in_sum_to(operand)
            }
            _ => false,
        }
    }

    /// Whether the `sum_to` node `v` is a `CowArray` that may borrow its operand:
    /// one it cannot move and whose value is not returned (a gradient is owned).
    fn borrows_in_sum_to(&self, v: ValueId) -> bool {
        let n = &self.g.nodes[v];
        match (&n.op, n.args.first()) {
            (Op::Grad(GradOp::SumTo), Some(&operand)) => {
                self.last_use[operand] != Some(v) && !self.g.grads.iter().flatten().any(|&g| g == v)
            }
            _ => false,
        }
    }

    fn grad_inputs(&self) -> Vec<(usize, ValueId)> {
        self.g
            .grads
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.map(|g| (i, g)))
            .collect()
    }

    /// The doc of a saved field: the forward expression it holds and where.
    fn saved_doc(&self, v: ValueId) -> String {
        let n = &self.g.nodes[v];
        let name = &self.names[v];
        let line = self.g.stmt_line.get(n.stmt).copied().unwrap_or(0);
        let at = if line > 0 {
            format!(" on line {line}")
        } else {
            String::new()
        };
        let text = n.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let ty = self.g.ty(v);
        match &n.op {
            Op::Input(_) => format!(" `{name}`: the input `{name}`, a {ty}."),
            Op::CallSaved => format!(" `{name}`: what `{text}`{at} saved for its backward."),
            Op::ShapeOf if !text.is_empty() => {
                format!(" `{name}`: the shape of `{text}`{at}.")
            }
            _ if text.is_empty() => format!(" `{name}`: a {ty} computed{at}."),
            _ => format!(" `{name}`: `{text}`{at}, a {ty}."),
        }
    }

    fn structs(&self) -> TokenStream {
        let vis = &self.def.vis;
        let (imp, _, wh) = self.struct_generics();
        let (saved, grads) = (self.struct_name("Saved"), self.struct_name("Grads"));
        let fname = self.fn_name().to_string();
        let fields: Vec<TokenStream> = self
            .saved
            .iter()
            .map(|&v| {
                let name = &self.names[v];
                let ty = self.node_ty(v);
                let doc = self.saved_doc(v);
                quote!(#[doc = #doc] pub #name: #ty)
            })
            .collect();
        let grad_fields: Vec<TokenStream> = self
            .grad_inputs()
            .iter()
            .map(|&(i, _)| {
                let input = &self.def.inputs[i];
                let name = &input.name;
                let ty = self.grad_field_ty(i);
                let doc = format!(" Gradient of the loss with respect to `{name}`.");
                quote!(#[doc = #doc] pub #name: #ty)
            })
            .collect();
        // A struct whose fields never mention the float type still needs it used.
        let marker = |uses_float: bool| -> TokenStream {
            match self.def.float_type {
                FloatType::Generic if !uses_float => {
                    let t = &self.float;
                    quote!(#[doc = " Marks the float type, which no field holds."] pub float: ::core::marker::PhantomData<#t>,)
                }
                _ => quote!(),
            }
        };
        let mut saved_marker = marker(self.saved_uses_float());
        if !self.lent_params().is_empty() {
            saved_marker.extend(quote! {
                #[doc = " Whether a layer's training forward kept empty arrays in place of the parameters it lends its backward."]
                #[doc(hidden)]
                pub __params_lent: bool,
            });
        }
        let grads_marker = marker(!self.grad_inputs().is_empty());
        let saved_doc =
            format!(" What the backward pass of [`{fname}`] needs, kept by [`{fname}_train`].");
        let grads_doc = format!(
            " Gradients computed by [`{fname}_backward`], one per input that takes one. An input the outputs do not depend on gets zeros."
        );
        let allows = self.user_allows();
        quote! {
            #[doc = #saved_doc]
            #allows
            // A called function's saved state may be of a type more private than this one.
            #[allow(private_interfaces)]
            #[derive(Clone, Debug)]
            #vis struct #saved #imp #wh { #(#fields,)* #saved_marker }

            #[doc = #grads_doc]
            #allows
            #[derive(Clone, Debug)]
            #vis struct #grads #imp #wh { #(#grad_fields,)* #grads_marker }
        }
    }

    fn saved_uses_float(&self) -> bool {
        self.saved
            .iter()
            .any(|&v| matches!(self.g.ty(v), Ty::Float(_) | Ty::Scalar | Ty::Opaque))
    }

    /// The marker field's initializer, when the struct has one.
    fn marker_init(&self, uses_float: bool) -> TokenStream {
        if self.def.float_type == FloatType::Generic && !uses_float {
            quote!(float: ::core::marker::PhantomData,)
        } else {
            quote!()
        }
    }

    fn grad_field_ty(&self, i: usize) -> TokenStream {
        match self.def.inputs[i].kind {
            InputKind::Float(r, _) => self.array_ty(r, self.float.clone()),
            _ => self.float.clone(),
        }
    }

    /// `NAME_train`; with `lend`, the layer's `__NAME_train_layer`, which keeps
    /// empty arrays in place of the parameters a layer lends its backward
    /// ([`Emitter::lent_params`]) instead of copying them.
    fn train_fn(&self, lend: bool) -> TokenStream {
        let krate = &self.krate;
        let vis = &self.def.vis;
        // A layer's function has one forward body, the lending one: its
        // `NAME_train` copies the lent parameters in after it.
        if !lend && !self.lent_params().is_empty() {
            return self.train_from_layer_train();
        }
        let train = if lend {
            self.layer_train_name()
        } else {
            self.item_name("_train")
        };
        let lent: Vec<ValueId> = if lend {
            self.lent_params().iter().map(|&(v, _)| v).collect()
        } else {
            Vec::new()
        };
        let saved_ty = self.struct_name("Saved");
        let (imp, _, wh) = self.generics();
        let (_, sty, _) = self.struct_generics();
        let inputs = &self.def.params;
        let out_ty = self.output_ty();
        let mut roots = self.g.outputs.clone();
        roots.extend(&self.saved);
        let nodes = self.closure(&roots, |v| !self.g.nodes[v].backward);
        let stmts = self.guarded(
            &self.statements(&nodes, Ctx::Forward),
            &self.array_inputs(),
            Ctx::Forward,
        );
        let prologue = self.scalar_prologue();
        let fields: Vec<TokenStream> = self
            .saved
            .iter()
            .map(|&v| {
                let name = &self.names[v];
                let n = &self.g.nodes[v];
                let value = match (n.op.clone(), n.ty) {
                    _ if lent.contains(&v) => quote!(::core::default::Default::default()),
                    (Op::Input(i), Ty::Float(_) | Ty::Int(_)) => self.save_input(i),
                    _ if self.saved_copy(v) => quote!(ops::save(&#name)),
                    _ if self.g.outputs.contains(&v) => quote!(#name.clone()),
                    _ => return quote!(#name),
                };
                quote!(#name: #value)
            })
            .collect();
        let out = self.output_exprs(true);
        let mut saved_marker_init = self.marker_init(self.saved_uses_float());
        // (Only the lending training forward gets here with lent parameters.)
        if !lent.is_empty() {
            saved_marker_init.extend(quote!(__params_lent: true,));
        }
        let doc = if lend {
            quote!(#[doc(hidden)])
        } else {
            let doc = self.train_doc();
            quote!(#[doc = #doc])
        };
        let allows = self.user_allows();
        quote! {
            #doc
            #allows
            #[allow(clippy::let_and_return, clippy::needless_borrow, clippy::redundant_clone, clippy::too_many_arguments, unused_variables)]
            #vis fn #train #imp (#inputs) -> (#out_ty, #saved_ty #sty) #wh {
                #[allow(unused_imports)]
                use #krate::ops;
                #(#prologue)*
                #(#stmts)*
                let saved = #saved_ty { #(#fields,)* #saved_marker_init };
                (#out, saved)
            }
        }
    }

    /// The type of the upstream gradient of output `k`.
    fn seed_ty_of(&self, k: usize) -> TokenStream {
        let nd = self.nd();
        let f = &self.float;
        let rank = self.def.outputs[k].rank;
        if self.scalar_output(k) {
            f.clone()
        } else {
            let v = format_ident!("ArrayView{}", rank);
            quote!(#nd::#v<'_, #f>)
        }
    }

    /// The type of a backward's upstream gradient: one output's, or a tuple.
    fn seed_ty(&self) -> TokenStream {
        if self.def.tuple {
            let tys: Vec<TokenStream> = (0..self.def.outputs.len())
                .map(|k| self.seed_ty_of(k))
                .collect();
            quote!((#(#tys),*))
        } else {
            self.seed_ty_of(0)
        }
    }

    fn seed_param(&self) -> (TokenStream, TokenStream) {
        let ty_of = |k: usize| self.seed_ty_of(k);
        let seeds: HashMap<usize, ValueId> = self
            .g
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(id, n)| {
                if let Op::Grad(GradOp::Seed(k)) = n.op {
                    Some((k, id))
                } else {
                    None
                }
            })
            .collect();
        let names: Vec<TokenStream> = (0..self.g.outputs.len())
            .map(|k| match seeds.get(&k) {
                Some(&s) => self.names[s].to_token_stream(),
                None => {
                    let unused = format_ident!("_d_out_{}", k);
                    quote!(#unused)
                }
            })
            .collect();
        let fname = self.fn_name().to_string();
        // A scalar's gradient becomes a 0-d array; an array's is checked against the
        // output's shape, which its seed node reads.
        let lift = |k: usize, name: &TokenStream| -> TokenStream {
            if self.scalar_output(k) {
                return quote!(let #name = ops::scalar(#name););
            }
            let Some(&seed) = seeds.get(&k) else {
                return quote!();
            };
            match self.g.nodes[seed].args.first() {
                Some(&shape) => {
                    let shape = self.value(shape, Ctx::Backward);
                    let what = name.to_string();
                    quote!(ops::check_upstream(&#name, &#shape, #fname, #what);)
                }
                None => quote!(),
            }
        };
        if self.def.tuple {
            let tys = self.seed_ty();
            let lifts: Vec<TokenStream> =
                names.iter().enumerate().map(|(k, n)| lift(k, n)).collect();
            (
                quote!(d_out: #tys),
                quote!(let (#(#names),*) = d_out; #(#lifts)*),
            )
        } else {
            let ty = ty_of(0);
            let name = &names[0];
            let l = lift(0, name);
            (quote!(#name: #ty), l)
        }
    }

    /// The backward statements that compute the gradients of `wanted` (input
    /// index, gradient value), the seed's parameter and prologue, and each
    /// gradient's input name and the expression that hands it out.
    fn backward_body(
        &self,
        wanted: &[(usize, ValueId)],
        replaced: &HashMap<ValueId, TokenStream>,
    ) -> BackwardBody {
        let roots: Vec<ValueId> = wanted.iter().map(|&(_, g)| g).collect();
        let nodes = self.closure(&roots, |v| self.g.nodes[v].backward);
        let mut stmts = self.statements(&nodes, Ctx::Backward);
        for (v, stmt) in stmts.iter_mut() {
            if let Some(rhs) = replaced.get(v) {
                let name = &self.names[*v];
                let span = self.g.nodes[*v].span;
                *stmt = quote_spanned!(span=> let #name = #rhs;);
            }
        }
        let seeds: Vec<ValueId> = nodes
            .iter()
            .copied()
            .filter(|&v| {
                matches!(self.g.nodes[v].op, Op::Grad(GradOp::Seed(_)))
                    && matches!(self.g.nodes[v].ty, Ty::Float(_))
            })
            .collect();
        let code = self.guarded(&stmts, &seeds, Ctx::Backward);
        let (seed_param, seed_prologue) = self.seed_param();
        let mut moved = HashSet::new();
        let grads = wanted
            .iter()
            .map(|&(i, gv)| {
                let field = self.def.inputs[i].name.clone();
                let var = &self.names[gv];
                // A seed is borrowed and a value can be moved once: copies otherwise.
                let copy =
                    matches!(self.g.nodes[gv].op, Op::Grad(GradOp::Seed(_))) || !moved.insert(gv);
                let scalar = self.def.inputs[i].kind == InputKind::Scalar;
                let value = match (copy, scalar) {
                    (false, false) => quote!(#var),
                    (true, false) => quote!(#var.to_owned()),
                    (false, true) => quote!(#var.into_scalar()),
                    (true, true) => quote!(#var.to_owned().into_scalar()),
                };
                (field, value)
            })
            .collect();
        BackwardBody {
            stmts,
            code,
            seed_param,
            seed_prologue,
            grads,
        }
    }

    /// The name of the backward the compiler derives: `NAME_backward`, or
    /// `NAME_derived_backward` when the user gives their own.
    fn derived_backward_name(&self) -> Ident {
        match self.custom_backward {
            Some(_) => self.item_name("_derived_backward"),
            None => self.item_name("_backward"),
        }
    }

    /// `NAME_backward` calling the user's `backward = path`, with the signature
    /// of the derived one.
    fn custom_backward_fn(&self, custom: &TokenStream) -> TokenStream {
        let vis = &self.def.vis;
        let name = self.item_name("_backward");
        let derived = self.derived_backward_name();
        let saved_ty = self.struct_name("Saved");
        let grads_ty = self.struct_name("Grads");
        let (imp, sty, wh) = self.struct_generics();
        let seed_ty = self.seed_ty();
        let fname = self.fn_name().to_string();
        let user = custom.to_string().replace(' ', "");
        let doc = format!(
            " The backward pass of [`{fname}`]: `{user}`, the backward written by hand and named \
             in the attribute. The compiler's own is [`{derived}`]; the test \
             `{fname}_gradient_check` compares the two (or, for a declared `surrogate`, checks \
             only that every gradient has its input's shape and is finite)."
        );
        // A signature that does not fit is an error at the name in the attribute.
        let span = custom
            .clone()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        let call = quote_spanned!(span=> #custom(saved, d_out));
        quote! {
            #[doc = #doc]
            #vis fn #name #imp (saved: &#saved_ty #sty, d_out: #seed_ty) -> #grads_ty #sty #wh {
                #call
            }
        }
    }

    fn backward_fn(&self) -> (TokenStream, String) {
        let vis = &self.def.vis;
        let name = self.derived_backward_name();
        let grads_ty = self.struct_name("Grads");
        let (_, sty, _) = self.struct_generics();
        let mut body = self.backward_body(&self.grad_inputs(), &HashMap::new());
        if !self.lent_params().is_empty() {
            let fname = self.fn_name().to_string();
            body.code
                .insert(0, quote!(ops::check_not_lent(saved.__params_lent, #fname);));
        }
        let fields: Vec<TokenStream> = body
            .grads
            .iter()
            .map(|(field, value)| {
                if *field == value.to_string() {
                    quote!(#field)
                } else {
                    quote!(#field: #value)
                }
            })
            .collect();
        let grads_marker_init = self.marker_init(!self.grad_inputs().is_empty());
        let text = self.backward_text(&body.stmts, &body.seed_prologue, &fields, &grads_ty);
        let fname = self.fn_name().to_string();
        let mut doc = vec![
            format!(" The backward pass of [`{fname}`], generated by `#[differentiable]`."),
            String::new(),
            format!(" Takes what [`{fname}_train`] saved and the gradient of the loss with respect to the output,"),
            " and returns the gradient with respect to each input. Its source, each statement under the".to_string(),
            " forward statement it comes from:".to_string(),
            String::new(),
            " ```text".to_string(),
        ];
        doc.extend(text.lines().map(|l| format!(" {l}")));
        doc.push(" ```".to_string());
        let tokens = self.backward_item(
            quote!(#(#[doc = #doc])*),
            quote!(#vis fn #name),
            body,
            quote!(#grads_ty #sty),
            quote!(#grads_ty { #(#fields,)* #grads_marker_init }),
        );
        (tokens, text)
    }

    /// A backward function from its body: `attrs`, then `head` (visibility,
    /// `fn`, name) taking `saved` and the seed, returning `result` of type `ret`.
    fn backward_item(
        &self,
        attrs: TokenStream,
        head: TokenStream,
        body: BackwardBody,
        ret: TokenStream,
        result: TokenStream,
    ) -> TokenStream {
        let krate = &self.krate;
        let saved_ty = self.struct_name("Saved");
        let (imp, sty, wh) = self.struct_generics();
        let BackwardBody {
            code: stmts,
            seed_param,
            seed_prologue,
            ..
        } = body;
        let allows = self.user_allows();
        // Nothing for a function that returns nothing.
        let ret = if ret.is_empty() { ret } else { quote!(-> #ret) };
        quote! {
            #attrs
            #allows
            #[allow(clippy::let_and_return, clippy::needless_borrow, clippy::redundant_clone, unused_variables)]
            #head #imp (saved: &#saved_ty #sty, #seed_param) #ret #wh {
                #[allow(unused_imports)]
                use #krate::ops;
                #seed_prologue
                #(#stmts)*
                #result
            }
        }
    }

    /// For a layer whose input and parameters take gradients: the backward without the
    /// input's gradient (what `Layer::backward_params` calls, so that a model's
    /// first layer computes nothing nobody reads), adding the parameters'
    /// gradients into the `Param`s it is given, in input order. A gradient
    /// that is a matrix product is added by the product itself (`dot_tm_acc`:
    /// `w.grad += x^T dz` in the GEMM), so no array of the weight's size is made
    /// and no separate pass adds it. `None` if there is nothing to skip.
    fn backward_params_fn(&self) -> Option<TokenStream> {
        let wanted = self.grad_inputs();
        let n = self.layer_inputs;
        let params: Vec<(usize, ValueId)> =
            wanted.iter().copied().filter(|&(i, _)| i >= n).collect();
        // Nothing to skip, or nothing but the inputs' gradients to compute.
        if params.len() == wanted.len() || params.is_empty() {
            return None;
        }
        let k = &self.krate;
        let nd = self.nd();
        let f = &self.float;
        let mut replaced = HashMap::new();
        let mut tys = Vec::new();
        for (at, &(i, gv)) in params.iter().enumerate() {
            let rank = match self.def.inputs[i].kind {
                InputKind::Float(r, _) => r,
                _ => 0,
            };
            let dim = format_ident!("Ix{}", rank);
            tys.push(quote!(&mut #k::Param<#f, #nd::#dim>));
            let at = syn::Index::from(at);
            if let Some(call) = self.accumulating_call(gv, &params, quote!(&mut grads.#at.grad)) {
                replaced.insert(gv, call);
            }
        }
        let name = self.backward_params_name();
        let mut body = self.backward_body(&params, &replaced);
        let added: Vec<TokenStream> = params
            .iter()
            .enumerate()
            .filter(|(_, (_, gv))| !replaced.contains_key(gv))
            .map(|(at, &(_, gv))| {
                let at = syn::Index::from(at);
                let var = &self.names[gv];
                quote!(grads.#at.accumulate(&#var);)
            })
            .collect();
        let seed = &body.seed_param;
        body.seed_param = quote!(#seed, grads: (#(#tys,)*));
        Some(self.backward_item(
            quote!(#[doc(hidden)] #[allow(clippy::type_complexity)]),
            quote!(pub fn #name),
            body,
            quote!(),
            quote!(#(#added)*),
        ))
    }

    /// Gradient `v` of a parameter computed straight into `acc`, when its op
    /// has a kernel that accumulates (a matrix product) and nothing else reads
    /// it: the kernel's call with `_acc` and `acc` appended. The non-finite
    /// guard after it then checks the accumulated gradient, which is this
    /// product alone after `zero_grad` (what training does every step).
    fn accumulating_call(
        &self,
        v: ValueId,
        params: &[(usize, ValueId)],
        acc: TokenStream,
    ) -> Option<TokenStream> {
        let Op::Grad(GradOp::PrimGrad(p, i, attr)) = &self.g.nodes[v].op else {
            return None;
        };
        let kernel = &p.grads.get(*i)?.kernel;
        let once = params.iter().filter(|&&(_, g)| g == v).count() == 1;
        let read = !self.readers[v].is_empty();
        if !matches!(kernel.name, "dot_tm" | "dot_mt") || !once || read {
            return None;
        }
        let mut args = self.kernel_args(kernel, v, *attr, p.op, Ctx::Backward);
        args.push(acc);
        let f = format_ident!("{}_acc", kernel.name);
        Some(quote!(ops::#f(#(#args),*)))
    }

    /// The parameters a layer lends its backward instead of copying them into
    /// `Saved` in its training forward: each saved array input after the
    /// layer's own inputs that takes a gradient (a `Param`, whose value only an
    /// optimizer step changes, after the backward). The layer moves the value
    /// into `Saved` for the backward's call and back (`std::mem::swap`, no
    /// copy). As (input node, input index).
    fn lent_params(&self) -> Vec<(ValueId, usize)> {
        if !self.layer || self.custom_backward.is_some() {
            return Vec::new();
        }
        self.g
            .inputs
            .iter()
            .enumerate()
            .skip(self.layer_inputs)
            .filter(|&(i, input)| {
                // A view or a reference, which `NAME_train` copies after lending.
                matches!(self.def.inputs[i].kind, InputKind::Float(r, Pass::View | Pass::Ref) if r > 0)
                    && self.g.grads.get(i).is_some_and(|g| g.is_some())
                    && self.saved.contains(&input.node)
                    && !self.g.outputs.contains(&input.node)
            })
            .map(|(i, input)| (input.node, i))
            .collect()
    }

    /// Whether `Saved` keeps a copy of `v`, as an `ops::SavedArray`: an array
    /// input, or an output that the caller gets too.
    fn saved_copy(&self, v: ValueId) -> bool {
        let n = &self.g.nodes[v];
        match n.op {
            Op::Input(_) => matches!(n.ty, Ty::Float(_) | Ty::Int(_)),
            _ => matches!(n.ty, Ty::Float(_)) && self.g.outputs.contains(&v),
        }
    }

    /// The copy of array input `i` that `Saved` keeps (`ops::save`, which
    /// shares one copy between `Saved`s given the same values).
    fn save_input(&self, i: usize) -> TokenStream {
        let (input, k) = (&self.def.inputs[i], &self.krate);
        let name = &input.name;
        match input.kind {
            InputKind::Float(_, Pass::Ref) | InputKind::Int(_, Pass::Ref) => {
                quote!(#k::ops::save(#name))
            }
            _ => quote!(#k::ops::save(&#name)),
        }
    }

    /// `NAME_train` for a layer's function: the lending training forward,
    /// then a copy of each parameter it lent, so that the `Saved` stands alone.
    fn train_from_layer_train(&self) -> TokenStream {
        let vis = &self.def.vis;
        let train = self.item_name("_train");
        let layer_train = self.layer_train_name();
        let saved_ty = self.struct_name("Saved");
        let (imp, _, wh) = self.generics();
        let (_, sty, _) = self.struct_generics();
        let inputs = &self.def.params;
        let out_ty = self.output_ty();
        let names = self.def.inputs.iter().map(|i| &i.name);
        let copies = self.lent_params().into_iter().map(|(v, i)| {
            let (field, save) = (&self.names[v], self.save_input(i));
            quote!(saved.#field = #save;)
        });
        let doc = self.train_doc();
        let allows = self.user_allows();
        quote! {
            #[doc = #doc]
            #allows
            #[allow(clippy::too_many_arguments)]
            #vis fn #train #imp (#inputs) -> (#out_ty, #saved_ty #sty) #wh {
                let (out, mut saved) = #layer_train(#(#names),*);
                #(#copies)*
                saved.__params_lent = false;
                (out, saved)
            }
        }
    }

    /// The rustdoc of `NAME_train`.
    fn train_doc(&self) -> String {
        let fname = self.fn_name().to_string();
        format!(
            " The forward pass of [`{fname}`] that also returns the values its backward pass needs."
        )
    }

    fn layer_train_name(&self) -> Ident {
        format_ident!("__{}_train_layer", self.fn_name())
    }

    fn backward_params_name(&self) -> Ident {
        format_ident!("__{}_backward_params", self.fn_name())
    }

    /// The backward statements as formatted source, with a comment naming the
    /// forward line each group comes from.
    /// Whether backward node `v` adds contributions: an addition, or a loop
    /// that ends in one.
    fn accumulates(&self, v: ValueId) -> bool {
        match &self.g.nodes[v].op {
            Op::Binary(BinOp::Add) => true,
            Op::Fused(f) => f
                .body
                .last()
                .is_some_and(|b| matches!(b.op, Op::Binary(BinOp::Add))),
            _ => false,
        }
    }

    fn backward_text(
        &self,
        stmts: &[(ValueId, TokenStream)],
        prologue: &TokenStream,
        fields: &[TokenStream],
        grads_ty: &Ident,
    ) -> String {
        let mut out = String::new();
        let pro = crate::pretty::statements(prologue);
        if !pro.is_empty() {
            out.push_str(&pro);
        }
        if stmts.iter().any(|(_, s)| s.to_string().contains("SITES")) {
            out.push_str("// `&SITES[k]`: where in the source each op is, for its shape errors\n");
        }
        let grad_of: HashMap<ValueId, ValueId> =
            self.g.grad_of.iter().map(|&(f, b)| (b, f)).collect();
        let mut last_stmt = usize::MAX;
        for (v, s) in stmts {
            let stmt = self.g.nodes[*v].stmt;
            if stmt != last_stmt {
                last_stmt = stmt;
                let line = self.g.stmt_line.get(stmt).copied().unwrap_or(0);
                let text = self.g.stmt_text.get(stmt).cloned().unwrap_or_default();
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if line > 0 {
                    out.push_str(&format!("// line {line}: {text}\n"));
                } else {
                    out.push_str(&format!("// {text}\n"));
                }
            }
            // The gradient of a value used several times sums one term per use.
            if let Some(&f) = grad_of.get(v)
                && self.accumulates(*v)
            {
                out.push_str(&format!(
                    "// {}: `{}` is used more than once, so its gradient sums one term per use\n",
                    self.names[*v], self.names[f]
                ));
            }
            out.push_str(&crate::pretty::statements(s));
        }
        out.push_str(&crate::pretty::expression(
            &quote!(#grads_ty { #(#fields),* }),
        ));
        out
    }

    fn dyn_fn(&self, backward_text: &str) -> TokenStream {
        let vis = &self.def.vis;
        let k = &self.krate;
        let nd = self.nd();
        let f = &self.float;
        let name = self.item_name("_dyn");
        let (fname, train, backward) = (
            self.fn_name(),
            self.item_name("_train"),
            self.item_name("_backward"),
        );
        let (imp, ty, wh) = self.struct_generics();
        let turbofish = if ty.is_empty() {
            quote!()
        } else {
            quote!(::#ty)
        };
        let args: Vec<TokenStream> = self
            .def
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let n = input.name.to_string();
                match input.kind {
                    InputKind::Float(r, pass) => {
                        let ix = format_ident!("Ix{}", r);
                        let view = quote!(inputs[#i].float::<#nd::#ix>(#n));
                        match pass {
                            Pass::View => view,
                            Pass::Ref => quote!(&#view.to_owned()),
                            Pass::Owned => quote!(#view.to_owned()),
                        }
                    }
                    InputKind::Int(r, pass) => {
                        let ix = format_ident!("Ix{}", r);
                        let view = quote!(inputs[#i].int::<#nd::#ix>(#n));
                        match pass {
                            Pass::View => view,
                            Pass::Ref => quote!(&#view.to_owned()),
                            Pass::Owned => quote!(#view.to_owned()),
                        }
                    }
                    InputKind::Scalar => quote!(inputs[#i].scalar(#n)),
                    InputKind::Usize => quote!(inputs[#i].size(#n)),
                }
            })
            .collect();
        let specs: Vec<TokenStream> = self
            .def
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let n = input.name.to_string();
                let grad = self.g.grads.get(i).is_some_and(|g| g.is_some());
                let kind = match input.kind {
                    InputKind::Float(rank, _) => {
                        quote!(#k::function::InputKind::Float { rank: #rank, grad: #grad })
                    }
                    InputKind::Scalar => {
                        quote!(#k::function::InputKind::Float { rank: 0, grad: #grad })
                    }
                    InputKind::Int(rank, _) => quote!(#k::function::InputKind::Int { rank: #rank }),
                    InputKind::Usize => quote!(#k::function::InputKind::Usize),
                };
                quote!(#k::function::InputSpec { name: #n, kind: #kind })
            })
            .collect();
        let outs_dyn: Vec<TokenStream> = (0..self.def.outputs.len())
            .map(|i| {
                let val = if self.def.tuple {
                    let idx = syn::Index::from(i);
                    quote!(out.#idx)
                } else {
                    quote!(out)
                };
                if self.scalar_output(i) {
                    quote!(#nd::arr0(#val).into_dyn())
                } else {
                    quote!(#val.into_dyn())
                }
            })
            .collect();
        let d_outs: Vec<TokenStream> = self
            .def
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let r = o.rank;
                if self.scalar_output(i) {
                    quote!(#k::function::scalar_of(&d_out[#i]))
                } else {
                    let ix = format_ident!("Ix{}", r);
                    let msg = crate::messages::upstream_gradient_rank(i, r);
                    quote!(d_out[#i].view().into_dimensionality::<#nd::#ix>().expect(#msg))
                }
            })
            .collect();
        let d_out_arg = if self.def.tuple {
            quote!((#(#d_outs),*))
        } else {
            quote!(#(#d_outs)*)
        };
        let grads: Vec<TokenStream> = self
            .g
            .grads
            .iter()
            .enumerate()
            .map(|(i, g)| match g {
                Some(_) => {
                    let field = &self.def.inputs[i].name;
                    if self.def.inputs[i].kind == InputKind::Scalar {
                        quote!(Some(#nd::arr0(grads.#field).into_dyn()))
                    } else {
                        quote!(Some(grads.#field.into_dyn()))
                    }
                }
                None => quote!(None),
            })
            .collect();
        let ranks: Vec<usize> = self.def.outputs.iter().map(|o| o.rank).collect();
        let n = fname.to_string();
        // `fn NAME(inputs, d_out)`: the training forward, then `backward_fn`.
        let dyn_backward = |name: Ident, backward_fn: &Ident| {
            quote! {
                fn #name #imp (inputs: &[#k::function::DynValue<#f>], d_out: &[#nd::ArrayD<#f>]) -> ::std::vec::Vec<::std::option::Option<#nd::ArrayD<#f>>> #wh {
                    let (_, saved) = #train(#(#args),*);
                    let grads = #backward_fn(&saved, #d_out_arg);
                    ::std::vec![#(#grads),*]
                }
            }
        };
        let backward_dyn = dyn_backward(format_ident!("backward"), &backward);
        // With a backward of the user's own, the derived one too, for the test.
        let (derived_fn, derived_field) = match self.custom_backward {
            Some(_) => (
                dyn_backward(
                    format_ident!("derived_backward"),
                    &self.derived_backward_name(),
                ),
                quote!(::std::option::Option::Some(derived_backward #turbofish)),
            ),
            None => (quote!(), quote!(::std::option::Option::None)),
        };
        let doc = format!(
            " [`{n}`] seen through dynamic ranks, for gradient checking (`backprop::gradcheck`)."
        );
        let allows = self.user_allows();
        quote! {
            #[doc = #doc]
            #allows
            #[allow(clippy::needless_borrow, unused_variables)]
            #vis fn #name #imp () -> #k::function::DynFunction<#f> #wh {
                fn forward #imp (inputs: &[#k::function::DynValue<#f>]) -> ::std::vec::Vec<#nd::ArrayD<#f>> #wh {
                    let out = #fname(#(#args),*);
                    ::std::vec![#(#outs_dyn),*]
                }
                #backward_dyn
                #derived_fn
                #k::function::DynFunction {
                    name: #n,
                    inputs: ::std::vec![#(#specs),*],
                    output_ranks: ::std::vec![#(#ranks),*],
                    backward_source: #backward_text,
                    forward: forward #turbofish,
                    backward: backward #turbofish,
                    derived_backward: #derived_field,
                }
            }
        }
    }

    /// The `Activation` variant a layer's single output is, when its last op is
    /// `sigmoid`, `tanh` or `relu` (fused or not): the monitors then read the
    /// layer's output as that activation.
    fn output_activation(&self) -> Option<&'static str> {
        let [out] = self.g.outputs[..] else {
            return None;
        };
        let node = &self.g.nodes[out];
        let last = match &node.op {
            Op::Fused(fused) => &fused.body.last()?.op,
            op => op,
        };
        match last {
            Op::Elementwise(e) => match e.name {
                "sigmoid" => Some("Sigmoid"),
                "tanh" => Some("Tanh"),
                "relu" => Some("Relu"),
                _ => None,
            },
            _ => None,
        }
    }

    /// The parts of a `Layer` or `Cell` impl that read the struct's fields:
    /// every input after the first `leading` is a field of `holder` (a `Param`
    /// for an input that takes a gradient), read through the accessors.
    fn holder_fields(&self, leading: usize, layer_ty: &TokenStream) -> HolderFields {
        let k = &self.krate;
        let f = &self.float;
        let (imp, ty, wh) = self.struct_generics();
        let mut args = Vec::new();
        let mut params = Vec::new();
        let mut accumulate = Vec::new();
        let mut grad_params = Vec::new();
        // Every field is read in one place, the accessors below, through a trait
        // of its own implemented only for the type the function needs there:
        // another type is one error whose message (the trait's
        // `on_unimplemented`, written here) shows the declaration that fixes it.
        // All their tokens carry the input's span, so that the error, or a missing
        // field's, is at the function's input (rustc reports the two accessors'
        // identical errors once).
        let (mut names, mut field_tys, mut reads, mut reads_mut) = (vec![], vec![], vec![], vec![]);
        let mut field_traits = Vec::new();
        let holder = layer_ty.to_string().replace(' ', "");
        let float_text = self.float.to_string();
        let generic_args = ty.clone();
        for (i, input) in self.def.inputs.iter().enumerate().skip(leading) {
            let name = &input.name;
            let wants = self.g.grads.get(i).is_some_and(|g| g.is_some());
            let span = name.span();
            let nd = self.nd();
            // The field's type, as generated code names it and as the user declares it.
            let (ty, declared) = match (input.kind, wants) {
                (InputKind::Float(r, _), true) => {
                    let ix = format_ident!("Ix{}", r);
                    (
                        quote_spanned!(span=> #k::Param<#f, #nd::#ix>),
                        format!("Param<{float_text}, Ix{r}>"),
                    )
                }
                (InputKind::Scalar, true) => (
                    quote_spanned!(span=> #k::Param<#f, #nd::Ix0>),
                    format!("Param<{float_text}, Ix0>"),
                ),
                (InputKind::Float(r, _), false) => (
                    self.array_ty(r, f.clone()),
                    format!("Array{r}<{float_text}>"),
                ),
                (InputKind::Int(r, _), _) => {
                    (self.array_ty(r, quote!(usize)), format!("Array{r}<usize>"))
                }
                (InputKind::Scalar, false) => (f.clone(), float_text.clone()),
                (InputKind::Usize, _) => (quote!(usize), "usize".to_string()),
            };
            // At the input's place but resolved as the macro's own code, so that
            // rustc does not suggest edits to the user's signature for a missing field.
            let field_name = Ident::new(&name.to_string(), span.resolved_at(Span::mixed_site()));
            let field_trait = format_ident!("__backprop_{}_field_{}", self.fn_name(), name);
            let (message, label, note) = crate::messages::layer_field_type(
                &name.to_string(),
                &holder,
                &self.fn_name().to_string(),
                &declared,
                wants,
            );
            field_traits.push(quote! {
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                trait #field_trait #imp #wh {
                    fn get(&self) -> &#ty;
                    fn get_mut(&mut self) -> &mut #ty;
                }

                impl #imp #field_trait #generic_args for #ty #wh {
                    fn get(&self) -> &#ty {
                        self
                    }
                    fn get_mut(&mut self) -> &mut #ty {
                        self
                    }
                }
            });
            // Named at the input, where rustc reports the trait's error.
            let at_input = Ident::new(&field_trait.to_string(), span);
            let trait_path = if generic_args.is_empty() {
                quote_spanned!(span=> #at_input)
            } else {
                quote_spanned!(span=> #at_input::#generic_args)
            };
            // The field read on its own (a missing one is an error at its name),
            // then handed to the trait as one token at the input (a field of
            // another type is the trait's error there).
            let field = Ident::new("field", span);
            reads.push(quote_spanned!(span=> {
                let #field = &(*this).#field_name;
                #trait_path::get(#field)
            }));
            reads_mut.push(quote_spanned!(span=> {
                let #field = &mut (*this).#field_name;
                #trait_path::get_mut(#field)
            }));
            field_tys.push(ty);
            names.push(name.clone());
            let field = if wants {
                quote!(#name.value)
            } else {
                quote!(#name)
            };
            args.push(match input.kind {
                InputKind::Float(_, Pass::View) | InputKind::Int(_, Pass::View) => {
                    quote!(#field.view())
                }
                // The accessor gives a reference already; a parameter's value is borrowed.
                InputKind::Float(_, Pass::Ref) | InputKind::Int(_, Pass::Ref) if wants => {
                    quote!(&#field)
                }
                InputKind::Float(_, Pass::Ref) | InputKind::Int(_, Pass::Ref) => quote!(#field),
                InputKind::Float(_, Pass::Owned) | InputKind::Int(_, Pass::Owned) => {
                    quote!(#field.clone())
                }
                InputKind::Scalar if wants => quote!(#field[()]),
                InputKind::Scalar | InputKind::Usize => quote!(*#field),
            });
            if wants {
                let n = name.to_string();
                params.push(quote!(f(#name.as_param_mut(#n));));
                let grad = quote!(grads.#name);
                let grad = if input.kind == InputKind::Scalar {
                    quote!(#k::ndarray::arr0(#grad))
                } else {
                    grad
                };
                accumulate.push(quote!(#name.accumulate(&#grad);));
                grad_params.push(name.clone());
            }
        }
        // Free functions rather than methods: a struct without a type parameter
        // (`layer = S<>`) may still have a generic forward.
        let (get, get_mut) = (
            format_ident!("__backprop_{}_fields", self.fn_name()),
            format_ident!("__backprop_{}_fields_mut", self.fn_name()),
        );
        let turbofish = if ty.is_empty() {
            quote!()
        } else {
            quote!(::#ty)
        };
        let (fields, fields_mut, accessors) = if names.is_empty() {
            (quote!(), quote!(), quote!())
        } else {
            (
                quote!(let (#(#names,)*) = #get #turbofish(self);),
                quote!(let (#(#names,)*) = #get_mut #turbofish(self);),
                quote! {
                    #(#field_traits)*

                    #[doc(hidden)]
                    #[allow(clippy::type_complexity, non_snake_case)]
                    fn #get #imp (this: &#layer_ty) -> (#(&#field_tys,)*) #wh {
                        let _ = this;
                        (#(#reads,)*)
                    }

                    #[doc(hidden)]
                    #[allow(clippy::type_complexity, non_snake_case, dead_code)]
                    fn #get_mut #imp (this: &mut #layer_ty) -> (#(&mut #field_tys,)*) #wh {
                        let _ = &this;
                        (#(#reads_mut,)*)
                    }
                },
            )
        };
        HolderFields {
            args,
            params,
            accumulate,
            grad_params,
            fields,
            fields_mut,
            accessors,
            turbofish,
        }
    }

    /// `cell = Name`: `layers::Cell` and `Parameters` for the struct, so that
    /// `layers::Recurrent` (or `layers::unroll`) runs the step over time. The
    /// function takes the step's input, the previous state (one or two 2-D
    /// arrays, as checked by the front end) and the fields.
    fn cell_impl(&self, cell: &syn::Type) -> TokenStream {
        let k = &self.krate;
        let f = &self.float;
        let nd = self.nd();
        let (imp, ty, wh) = self.struct_generics();
        let cell_ty = self.holder_type(cell);
        let states = self.def.outputs.len();
        let HolderFields {
            args: field_args,
            params,
            accumulate,
            fields,
            fields_mut,
            accessors,
            ..
        } = self.holder_fields(1 + states, &cell_ty);
        let (train, backward) = (self.item_name("_train"), self.item_name("_backward"));
        let saved_ty = self.struct_name("Saved");
        let input = |i: usize| &self.def.inputs[i];
        // `x` arrives as a view, the state as references to owned arrays.
        let x_arg = match input(0).kind {
            InputKind::Float(_, Pass::View) => quote!(x),
            InputKind::Float(_, Pass::Ref) => quote!(&x.to_owned()),
            _ => quote!(x.to_owned()),
        };
        let state_names: Vec<&Ident> = (1..=states).map(|i| &input(i).name).collect();
        let state_args = (1..=states).map(|i| {
            let name = &input(i).name;
            match input(i).kind {
                InputKind::Float(_, Pass::View) => quote!(#name.view()),
                InputKind::Float(_, Pass::Ref) => quote!(#name),
                _ => quote!(#name.clone()),
            }
        });
        let array = quote!(#nd::Array2<#f>);
        let (state_ty, take_state, d_views, d_state_out) = if states == 1 {
            let h = state_names[0];
            (
                array.clone(),
                quote!(let #h = state;),
                quote!(d_state.view()),
                quote!(grads.#h),
            )
        } else {
            let (h, c) = (state_names[0], state_names[1]);
            (
                quote!((#array, #array)),
                quote!(let (#h, #c) = state;),
                quote!((d_state.0.view(), d_state.1.view())),
                quote!((grads.#h, grads.#c)),
            )
        };
        let x = &input(0).name;
        // `recurrence = wh`: the monitors read that field's matrix.
        let recurrence = self.recurrence.as_ref().map(|w| {
            quote! {
                #[allow(unused_variables)]
                fn recurrence_matrix(&self) -> ::std::option::Option<&#array> {
                    #fields
                    ::std::option::Option::Some(&#w.value)
                }
            }
        });
        let visitor = if params.is_empty() {
            quote!(_f)
        } else {
            quote!(f)
        };
        quote! {
            #accessors

            impl #imp #k::Parameters<#f> for #cell_ty #wh {
                #[allow(unused_variables)]
                fn visit_params(&mut self, #visitor: &mut dyn FnMut(#k::ParamMut<'_, #f>)) {
                    #fields_mut
                    #(#params)*
                }
            }

            impl #imp #k::layers::Cell<#f> for #cell_ty #wh {
                type State = #state_ty;
                type StepSaved = #saved_ty #ty;

                #[allow(unused_variables)]
                fn step(&self, x: #nd::ArrayView2<'_, #f>, state: &Self::State) -> (Self::State, Self::StepSaved) {
                    #take_state
                    #fields
                    #train(#x_arg, #(#state_args,)* #(#field_args),*)
                }

                #[allow(unused_variables)]
                fn step_backward(&mut self, saved: &Self::StepSaved, d_state: Self::State) -> (#array, Self::State) {
                    let grads = #backward(saved, #d_views);
                    #fields_mut
                    #(#accumulate)*
                    (grads.#x, #d_state_out)
                }

                #recurrence
            }
        }
    }

    /// `layer = Name` or `cell = Name`: the struct's type, `Name<T>` for a
    /// generic function when written without generics.
    fn holder_type(&self, holder: &syn::Type) -> TokenStream {
        let (_, ty, _) = self.struct_generics();
        match holder {
            syn::Type::Path(p)
                if p.qself.is_none()
                    && p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.arguments.is_none()) =>
            {
                quote!(#holder #ty)
            }
            other => quote!(#other),
        }
    }

    fn layer_impl(&self, layer: &syn::Type) -> TokenStream {
        let k = &self.krate;
        let f = &self.float;
        let (imp, ty, wh) = self.struct_generics();
        let lent = self.lent_params();
        let (fname, train, backward) = (
            self.fn_name(),
            if lent.is_empty() {
                self.item_name("_train")
            } else {
                self.layer_train_name()
            },
            self.item_name("_backward"),
        );
        // The parameters the training forward did not copy, moved into `Saved`
        // for the backward's call and back, also when the call panics.
        let lend = |call: TokenStream, bind: bool| {
            let done = if bind {
                quote!(let grads = grads.unwrap_or_else(|panic| ::std::panic::resume_unwind(panic));)
            } else {
                quote!(if let Err(panic) = grads {
                    ::std::panic::resume_unwind(panic)
                })
            };
            if lent.is_empty() {
                return if bind {
                    quote!(let grads = #call;)
                } else {
                    quote!(#call;)
                };
            }
            let swaps: Vec<TokenStream> = lent
                .iter()
                .map(|&(v, i)| {
                    let (field, input) = (&self.names[v], &self.def.inputs[i].name);
                    quote!(saved.#field.swap(&mut #input.value);)
                })
                .collect();
            quote! {
                let mut saved = saved;
                #(#swaps)*
                saved.__params_lent = false;
                let grads = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| #call));
                #(#swaps)*
                #done
            }
        };
        let saved_ty = self.struct_name("Saved");
        // `layer = Name` means `Name<T>` for a generic function; written generics are kept.
        let layer_ty = self.holder_type(layer);
        // The layer's input: its first input, or a tuple of its leading ones.
        let n = self.layer_inputs;
        let wants = |i: usize| self.g.grads.get(i).is_some_and(|g| g.is_some());
        let input_wants = (0..n).any(wants);
        let parts: Vec<(TokenStream, TokenStream, TokenStream)> = self.def.inputs[..n]
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let x = if n == 1 {
                    quote!(x)
                } else {
                    let idx = syn::Index::from(i);
                    quote!(x.#idx)
                };
                let (ty, arg) = match input.kind {
                    InputKind::Float(r, pass) | InputKind::Int(r, pass) => {
                        let elem = if matches!(input.kind, InputKind::Float(..)) {
                            f.clone()
                        } else {
                            quote!(usize)
                        };
                        let arg = match (pass, n) {
                            (Pass::View, _) => quote!(#x.view()),
                            (Pass::Ref, 1) => quote!(#x),
                            (Pass::Ref, _) => quote!(&#x),
                            (Pass::Owned, _) => quote!(#x.clone()),
                        };
                        (self.array_ty(r, elem), arg)
                    }
                    _ => (quote!(()), quote!(())),
                };
                let grad_ty = if wants(i) { ty.clone() } else { quote!(()) };
                (ty, arg, grad_ty)
            })
            .collect();
        let tuple_of = |items: Vec<TokenStream>| -> TokenStream {
            if n == 1 {
                quote!(#(#items)*)
            } else {
                quote!((#(#items),*))
            }
        };
        let input_ty = tuple_of(parts.iter().map(|p| p.0.clone()).collect());
        let input_args: Vec<TokenStream> = parts.iter().map(|p| p.1.clone()).collect();
        let input_grad_ty = if n == 1 && !input_wants {
            quote!(())
        } else {
            tuple_of(parts.iter().map(|p| p.2.clone()).collect())
        };
        let HolderFields {
            args: field_args,
            params,
            accumulate,
            grad_params,
            fields,
            fields_mut,
            accessors,
            turbofish,
        } = self.holder_fields(n, &layer_ty);
        // A model's first layer is handed a view of the model's input: a layer
        // whose function takes a view takes it as it is, without a copy.
        let forward_views = match self.def.inputs[0].kind {
            InputKind::Float(r, Pass::View) if n == 1 => {
                let (nd, ix) = (self.nd(), self.ix(r));
                let args = std::iter::once(quote!(x)).chain(field_args.iter().cloned());
                let args: Vec<TokenStream> = args.collect();
                quote! {
                    #[allow(unused_variables)]
                    fn forward_view(&self, x: #nd::ArrayViewD<'_, #f>) -> Option<Self::Output> {
                        let x = x.into_dimensionality::<#ix>().ok()?;
                        #fields
                        Some(#fname(#(#args),*))
                    }

                    #[allow(unused_variables)]
                    fn forward_train_view(&mut self, x: #nd::ArrayViewD<'_, #f>) -> Option<(Self::Output, Self::Saved)> {
                        let x = x.into_dimensionality::<#ix>().ok()?;
                        #fields
                        Some(#train(#(#args),*))
                    }
                }
            }
            _ => quote!(),
        };
        let args: Vec<TokenStream> = input_args.into_iter().chain(field_args).collect();
        let d_out = match (self.def.tuple, self.scalar_output(0)) {
            (true, _) => {
                let parts: Vec<TokenStream> = (0..self.def.outputs.len())
                    .map(|i| {
                        let idx = syn::Index::from(i);
                        if self.scalar_output(i) {
                            quote!(d_out.#idx)
                        } else {
                            quote!(d_out.#idx.view())
                        }
                    })
                    .collect();
                quote!((#(#parts),*))
            }
            (false, true) => quote!(*d_out),
            (false, false) => quote!(d_out.view()),
        };
        let out_ty = self.output_ty();
        // Without an input gradient the body ends in a statement and returns `()`.
        let ret = if !input_wants && n == 1 {
            quote!()
        } else {
            tuple_of(
                (0..n)
                    .map(|i| {
                        let x = &self.def.inputs[i].name;
                        if wants(i) {
                            quote!(grads.#x)
                        } else {
                            quote!(())
                        }
                    })
                    .collect(),
            )
        };
        // The backward without the input's gradient, where there is one to skip
        // (a backward of the user's own is only ever called whole).
        let backward_params = if self.custom_backward.is_some() {
            quote!()
        } else if input_wants && grad_params.is_empty() {
            // Only the input takes a gradient: training needs nothing from it.
            quote! {
                fn backward_params(&mut self, _: Self::Saved, _: &Self::Output) {}
            }
        } else if input_wants {
            let name = self.backward_params_name();
            let call = lend(
                quote!(#name #turbofish(&saved, #d_out, (#(&mut *#grad_params,)*))),
                false,
            );
            quote! {
                #[allow(unused_variables)]
                fn backward_params(&mut self, saved: Self::Saved, d_out: &Self::Output) {
                    #fields_mut
                    #call
                }
            }
        } else {
            quote!()
        };
        // What the monitors read of the output (saturation, dead units).
        let activation = match self.output_activation() {
            Some(name) => {
                let variant = format_ident!("{}", name);
                quote!(const ACTIVATION: Option<#k::layer::Activation> = Some(#k::layer::Activation::#variant);)
            }
            None => quote!(),
        };
        // A layer without parameters never calls the visitor.
        let visitor = if params.is_empty() {
            quote!(_f)
        } else {
            quote!(f)
        };
        let backward_call = lend(quote!(#backward(&saved, #d_out)), true);
        quote! {
            #accessors

            impl #imp #k::Parameters<#f> for #layer_ty #wh {
                #[allow(unused_variables)]
                fn visit_params(&mut self, #visitor: &mut dyn FnMut(#k::ParamMut<'_, #f>)) {
                    #fields_mut
                    #(#params)*
                }
            }

            impl #imp #k::Layer<#f> for #layer_ty #wh {
                type Input = #input_ty;
                type Output = #out_ty;
                type InputGrad = #input_grad_ty;
                type Saved = #saved_ty #ty;
                #activation

                #[allow(unused_variables)]
                fn forward(&self, x: &Self::Input) -> Self::Output {
                    #fields
                    #fname(#(#args),*)
                }

                #[allow(unused_variables)]
                fn forward_train(&mut self, x: &Self::Input) -> (Self::Output, Self::Saved) {
                    #fields
                    #train(#(#args),*)
                }

                #forward_views

                #[allow(unused_variables)]
                fn backward(&mut self, saved: Self::Saved, d_out: &Self::Output) -> Self::InputGrad {
                    #fields_mut
                    #backward_call
                    #(#accumulate)*
                    #ret
                }

                #backward_params
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The names built from ops and constants are identifiers: `2.0 / b` once
    /// named its value `2_over_b`, and `Ident::new` panicked inside the macro.
    #[test]
    fn names_built_from_constants_are_identifiers() {
        // Products save their operands, so these values are named in `Saved`.
        let src = "#[differentiable] fn f<T: Real>(x: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> { \
                   x.dot(&(2.0 / &b)) + x.dot(&(1.0 - &b)) + x.dot(&(&b * 3.0)) }";
        let code = crate::expand_source(src).expect("it expands");
        for name in ["two_over_b", "one_minus_b", "b_times_three"] {
            assert!(code.contains(name), "{name} not in\n{code}");
        }
        assert_eq!(
            super::ident_from_text("f * &c_prev").as_deref(),
            Some("f_times_c_prev")
        );
        assert_eq!(
            super::ident_from_text("x.dot(&w)").as_deref(),
            Some("x_dot_w")
        );
        assert_eq!(super::ident_from_text("x + 1e-5"), None);
        assert_eq!(super::ident_from_text("in"), None, "a keyword");
    }
}
