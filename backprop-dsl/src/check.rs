//! Stage 2: checks every expression and lowers the body to the IR. Names are
//! resolved, ops looked up, ranks and kinds checked; every problem becomes a
//! diagnostic at the offending token and lowering goes on, so one run reports
//! all of them.

use std::collections::HashMap;

use backprop_spec::{Compare, Elementwise};
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit};

use crate::diag::{Diagnostics, did_you_mean, span_range};
use crate::ir::{
    BinOp, FloatType, Graph, Input, InputSig, Node, Op, OutputSig, ScalarOp, Signature, Ty,
    UsizeOp, ValueId,
};
use crate::messages::{self, FloatUse, OpHint, ValueHint};
use crate::ops;
use crate::parse::{FnDef, InputKind, Pass};

/// Lowers a parsed function to a checked IR graph.
pub fn check(def: &FnDef, surrogate: bool, diags: &mut Diagnostics) -> Graph {
    let mut lower = Lower::new(def, diags);
    for l in &def.lets {
        lower.begin_stmt(let_text(l), l.expr.span());
        let values = lower.let_values(l);
        for (name, v) in l.names.iter().zip(values) {
            // `_` binds nothing.
            if name == "_" {
                continue;
            }
            if let Some(v) = v
                && lower.g.nodes[v].name.is_none()
                && !matches!(lower.g.nodes[v].op, Op::Input(_))
            {
                lower.g.nodes[v].name = Some(name.to_string());
            }
            // A failed `let` still binds its name (to nothing), so uses of it are not reported again.
            lower.bind(name.to_string(), v);
            lower.let_of.insert(name.to_string(), lower.g.lets.len());
            lower.g.lets.push(crate::ir::LetBinding {
                name: name.to_string(),
                span: name.span(),
                value: v,
                used: false,
            });
        }
        lower.stmt += 1;
    }
    lower.begin_stmt(source_text(&def.tail), def.tail.span());
    lower.outputs(def);
    if !surrogate {
        lower.check_gradient_path();
    }
    lower.g
}

/// A `let` statement as its comments show it: `let h: Array2<T> = gru(x, h);`.
fn let_text(l: &crate::parse::Let) -> String {
    let names: Vec<String> = l.names.iter().map(|n| n.to_string()).collect();
    let pat = if l.tuple {
        format!("({})", names.join(", "))
    } else {
        names.join(", ")
    };
    let ty =
        l.ty.as_ref()
            .map(|t| format!(": {}", crate::diag::code(t)))
            .unwrap_or_default();
    format!("let {pat}{ty} = {};", source_text(&l.expr))
}

/// The signature as the IR carries it: built once here, so that emission reads
/// the IR alone.
pub fn signature(def: &FnDef) -> Signature {
    let item = &def.item;
    let attrs = &item.attrs;
    let allows = attrs.iter().filter(|a| a.path().is_ident("allow"));
    let generics = &item.sig.generics;
    let (imp, ty, wh) = generics.split_for_impl();
    // The generated structs hold arrays of the float type: its parameter only.
    let struct_generics = match generics.type_params().next() {
        Some(tp) => {
            let (ident, bounds) = (&tp.ident, &tp.bounds);
            let colon = (!bounds.is_empty()).then(|| quote::quote!(:));
            (
                quote::quote!(<#ident #colon #bounds>),
                quote::quote!(<#ident>),
                generics.where_clause.to_token_stream(),
            )
        }
        None => Default::default(),
    };
    let float_type = if def.generic {
        FloatType::Generic
    } else if def.float == "f32" {
        FloatType::F32
    } else {
        FloatType::F64
    };
    Signature {
        name: item.sig.ident.clone(),
        attrs: quote::quote!(#(#attrs)*),
        allows: quote::quote!(#(#allows)*),
        vis: item.vis.to_token_stream(),
        sig: item.sig.to_token_stream(),
        params: item.sig.inputs.to_token_stream(),
        output: match &item.sig.output {
            syn::ReturnType::Type(_, t) => t.to_token_stream(),
            syn::ReturnType::Default => quote::quote!(()),
        },
        generics: (
            imp.to_token_stream(),
            ty.to_token_stream(),
            wh.to_token_stream(),
        ),
        struct_generics,
        float: def.float.to_token_stream(),
        float_type,
        inputs: def
            .inputs
            .iter()
            .map(|d| InputSig {
                name: d.name.clone(),
                kind: d.kind,
                no_grad: d.no_grad,
            })
            .collect(),
        outputs: def
            .outputs
            .iter()
            .zip(&def.output_scalar)
            .map(|(&rank, &scalar)| OutputSig { rank, scalar })
            .collect(),
        tuple: def.tuple_output,
    }
}

/// The graph of a function whose body has errors, from its signature alone: its
/// inputs, and outputs that are never computed ([`Op::Unavailable`]). Emitted, it
/// gives every item the function would have had, so nothing cascades from the
/// errors. The signature must have been parsed without errors.
pub fn stub_graph(def: &FnDef) -> Graph {
    let mut diags = Diagnostics::new();
    let mut lower = Lower::new(def, &mut diags);
    let span = def.item.sig.ident.span();
    for &rank in &def.outputs {
        let v = lower.node(Op::Unavailable, vec![], Ty::Float(rank), span);
        lower.g.outputs.push(v);
    }
    lower.g
}

/// A short stand-in for the text of an expression too large to quote: its
/// outermost op, as in `tanh(...)`, `... + ...` or `(...).sum()`.
fn abbreviated_text(e: &Expr) -> String {
    match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => format!("{}(...)", crate::diag::code(&p.path)),
            _ => "(...)".to_string(),
        },
        Expr::MethodCall(m) => format!("(...).{}(...)", m.method),
        Expr::Binary(b) => format!("... {} ...", crate::diag::code(&b.op)),
        Expr::Unary(u) => format!("{}(...)", crate::diag::code(&u.op)),
        Expr::Paren(p) => abbreviated_text(&p.expr),
        Expr::Group(g) => abbreviated_text(&g.expr),
        Expr::Reference(r) => abbreviated_text(&r.expr),
        _ => "...".to_string(),
    }
}

/// Expressions of more tokens than this are quoted flat rather than through prettyplease.
const PRETTY_TOKENS: usize = 400;

fn token_count(tokens: &proc_macro2::TokenStream) -> usize {
    tokens
        .clone()
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Group(g) => 2 + token_count(&g.stream()),
            _ => 1,
        })
        .sum()
}

/// The source text of an expression, formatted on one line.
pub fn source_text(e: &Expr) -> String {
    // Spans of whole expressions cannot be joined on stable Rust, so the text is
    // re-printed from the tokens and put on one line.
    let tokens = e.to_token_stream();
    if token_count(&tokens) > PRETTY_TOKENS {
        // prettyplease indents each level of nesting, so its output for a deeply
        // nested expression is quadratic in size: print flat instead.
        return crate::diag::code(&tokens);
    }
    let text = crate::pretty::expression(&tokens);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.trim_end_matches(';').trim().to_string();
    if text.is_empty() {
        e.to_token_stream().to_string()
    } else {
        text
    }
}

/// `e` without parentheses.
fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

/// `t` without parentheses.
fn strip_type(t: &syn::Type) -> &syn::Type {
    match t {
        syn::Type::Paren(p) => strip_type(&p.elem),
        syn::Type::Group(g) => strip_type(&g.elem),
        t => t,
    }
}

/// The lowering of one function: its scope, its graph so far and its diagnostics.
/// The check functions of the ops in [`crate::ops`] take it to read their arguments.
pub struct Lower<'a> {
    g: Graph,
    /// Names in scope, latest last (a later `let` shadows an earlier one); `None`
    /// for a name whose value had an error, already reported.
    env: Vec<(String, Option<ValueId>)>,
    /// The value each name in scope has now (the latest binding of `env`), for
    /// lookups in constant time.
    scope: HashMap<String, Option<ValueId>>,
    /// For each name bound by a `let` now in scope, its index in `g.lets`.
    let_of: HashMap<String, usize>,
    /// Names declared in ways that were rejected, already reported.
    unbound: &'a [String],
    /// The names of the `let`s with their statement's number, in order, to tell
    /// a use before its `let`.
    let_names: Vec<(usize, Ident)>,
    /// How many calls of other `#[differentiable]` functions were lowered.
    calls: usize,
    diags: &'a mut Diagnostics,
    /// The float type's name (`T`, `f32`, `f64`), to recognise `T::lit(..)`.
    float: String,
    /// The float type as written, to read declared types with.
    float_ident: Ident,
    stmt: usize,
    /// The source range of each call's node, for messages about it (node spans are one token).
    ranges: HashMap<ValueId, (Span, Span)>,
    /// The first and last token of each expression met, keyed by its address in the
    /// parsed function: computed once each from its parts, since asking syn for an
    /// expression's span walks all its tokens (quadratic over nested expressions).
    expr_ranges: HashMap<usize, (Span, Span)>,
    /// For each node, the length of the longest chain of ops below it (inputs and
    /// constants are 0); bounds which nodes keep their full source text.
    heights: Vec<usize>,
}

/// Nodes this many ops above the leaves or fewer carry their source text in full
/// (for shape errors and comments); taller ones are abbreviated, so that the texts
/// of 5,000 nested ops do not add up to quadratic size. Each token is then printed
/// for at most this many nodes.
const FULL_TEXT_HEIGHT: usize = 12;

impl<'a> Lower<'a> {
    /// A lowering of `def` with its signature and inputs in the graph.
    fn new(def: &'a FnDef, diags: &'a mut Diagnostics) -> Self {
        let mut lower = Lower {
            g: Graph::default(),
            env: Vec::new(),
            scope: HashMap::new(),
            let_of: HashMap::new(),
            unbound: &def.unbound,
            let_names: def
                .lets
                .iter()
                .enumerate()
                .flat_map(|(k, l)| l.names.iter().map(move |n| (k, n.clone())))
                .collect(),
            calls: 0,
            diags,
            float: def.float.to_string(),
            float_ident: def.float.clone(),
            stmt: 0,
            ranges: HashMap::new(),
            expr_ranges: HashMap::new(),
            heights: Vec::new(),
        };
        lower.g.sig = signature(def);
        lower.inputs(def);
        lower
    }
}

impl Lower<'_> {
    /// Where the ops' check functions report problems.
    pub(crate) fn diags(&mut self) -> &mut Diagnostics {
        self.diags
    }

    /// A node of an op described by data, of the type its rule gives for these
    /// arguments (the one place ops' checks turn into nodes).
    pub(crate) fn prim(
        &mut self,
        prim: &'static ops::Prim,
        attr: ops::Attr,
        args: Vec<ValueId>,
        span: Span,
    ) -> Option<ValueId> {
        let tys: Vec<Ty> = args.iter().map(|&a| self.g.ty(a)).collect();
        let ty = (prim.ty)(&tys, attr)?;
        Some(self.node(Op::Prim(prim, attr), args, ty, span))
    }

    /// The value of a `usize` constant, if `v` is one.
    pub(crate) fn usize_constant(&self, v: ValueId) -> Option<usize> {
        match self.g.nodes[v].op {
            Op::UsizeConst(n) => Some(n),
            _ => None,
        }
    }

    /// The type of a value lowered so far.
    pub(crate) fn ty(&self, v: ValueId) -> Ty {
        self.g.ty(v)
    }

    fn bind(&mut self, name: String, v: Option<ValueId>) {
        self.scope.insert(name.clone(), v);
        self.env.push((name, v));
    }

    /// The first and last token of an expression, from its parts (memoized, see `expr_ranges`).
    fn range_of(&mut self, e: &Expr) -> (Span, Span) {
        let key = e as *const Expr as usize;
        if let Some(&r) = self.expr_ranges.get(&key) {
            return r;
        }
        let r = match e {
            Expr::Binary(b) => (self.range_of(&b.left).0, self.range_of(&b.right).1),
            Expr::MethodCall(m) => (self.range_of(&m.receiver).0, m.paren_token.span.close()),
            Expr::Call(c) => (self.range_of(&c.func).0, c.paren_token.span.close()),
            Expr::Paren(p) => (p.paren_token.span.open(), p.paren_token.span.close()),
            Expr::Unary(u) => (span_range(&u.op).0, self.range_of(&u.expr).1),
            Expr::Reference(r) => (r.and_token.span, self.range_of(&r.expr).1),
            Expr::Group(g) => self.range_of(&g.expr),
            other => span_range(other),
        };
        self.expr_ranges.insert(key, r);
        r
    }

    fn begin_stmt(&mut self, text: String, span: Span) {
        self.g.stmt_text.push(text);
        self.g.stmt_line.push(span.start().line);
    }

    pub(crate) fn node(&mut self, op: Op, args: Vec<ValueId>, ty: Ty, span: Span) -> ValueId {
        let height = args.iter().map(|&a| self.heights[a] + 1).max().unwrap_or(0);
        self.heights.push(height);
        self.g.push(Node {
            op,
            args,
            ty,
            span,
            text: String::new(),
            stmt: self.stmt,
            name: None,
            backward: false,
        })
    }

    fn inputs(&mut self, def: &FnDef) {
        for (i, decl) in def.inputs.iter().enumerate() {
            let (ty, wants_grad) = match decl.kind {
                InputKind::Float(rank, _) => (Ty::Float(rank), !decl.no_grad),
                InputKind::Scalar if decl.no_grad => (Ty::Scalar, false),
                InputKind::Scalar => (Ty::Float(0), true),
                InputKind::Int(rank, _) => (Ty::Int(rank), false),
                InputKind::Usize => (Ty::Usize, false),
            };
            let name = decl.name.to_string();
            self.heights.push(0);
            let node = self.g.push(Node {
                op: Op::Input(i),
                args: vec![],
                ty,
                span: decl.name.span(),
                text: name.clone(),
                stmt: 0,
                name: Some(name.clone()),
                backward: false,
            });
            self.g.inputs.push(Input {
                name: name.clone(),
                ty,
                wants_grad,
                node,
            });
            self.bind(name, Some(node));
        }
    }

    fn outputs(&mut self, def: &FnDef) {
        let (parts, is_tuple): (Vec<&Expr>, bool) = match &def.tail {
            Expr::Tuple(t) => (t.elems.iter().collect(), true),
            e => (vec![e], false),
        };
        let declared = !def.output_tys.is_empty() && def.outputs.len() == def.output_tys.len();
        // A call of a function returning all the outputs: its results, declared by the return type.
        if let (Some(_), syn::ReturnType::Type(_, ty)) =
            (self.function_call(&def.tail), &def.item.sig.output)
        {
            let values =
                self.call_function(&def.tail, Some(ty), def.outputs.len(), def.tuple_output);
            if declared {
                self.g.outputs.extend(values.into_iter().flatten());
            }
            return;
        }
        // Every part is checked, so its errors show whatever the return type says;
        // a part that is a call has the type the return type gives it.
        let values: Vec<Option<ValueId>> = parts
            .iter()
            .enumerate()
            .map(|(k, p)| match def.output_tys.get(k) {
                Some(ty) if is_tuple && self.function_call(p).is_some() => {
                    self.call_function(p, Some(ty), 1, false).pop().flatten()
                }
                _ => self.expr(p),
            })
            .collect();
        if !declared {
            // The return type itself was rejected, and reported.
            return;
        }
        if is_tuple != def.tuple_output || parts.len() != def.outputs.len() {
            let n = def.outputs.len();
            let message = match (def.tuple_output, is_tuple) {
                (true, false) => messages::tuple_expected(n),
                (false, true) => messages::tuple_unexpected(parts.len()),
                _ => messages::tuple_length(n, parts.len()),
            };
            self.diags.error_at(&def.tail, message);
            return;
        }
        for (k, ((part, &rank), v)) in parts.iter().zip(&def.outputs).zip(values).enumerate() {
            let Some(v) = v else { continue };
            let ty = self.g.ty(v);
            if ty != Ty::Float(rank) {
                let declared = def
                    .output_tys
                    .get(k)
                    .map(crate::diag::code)
                    .unwrap_or_default();
                self.diags
                    .error_at(&part, messages::wrong_output_type(ty, &declared));
                continue;
            }
            self.g.outputs.push(v);
        }
    }

    /// The values a `let` binds, one per name: a call's results, or the value of
    /// its expression, checked against the declared type if there is one.
    fn let_values(&mut self, l: &crate::parse::Let) -> Vec<Option<ValueId>> {
        if self.function_call(&l.expr).is_some() {
            return self.call_function(&l.expr, l.ty.as_ref(), l.names.len(), l.tuple);
        }
        if l.tuple {
            self.diags
                .error_range(l.pat_range, messages::TUPLE_LET_NOT_CALL);
            // A tuple's parts are checked for their own errors; the tuple is this one.
            match strip(&l.expr) {
                Expr::Tuple(t) => t.elems.iter().for_each(|e| {
                    self.expr(e);
                }),
                e => {
                    self.expr(e);
                }
            }
            return vec![None; l.names.len()];
        }
        let v = self.expr(&l.expr);
        if let (Some(v), Some(declared)) = (v, &l.ty) {
            let ty = self.g.ty(v);
            // Owned, a view or a reference alike: what is checked is the kind and
            // the rank; a type the language has no name for (a mask) is left to rustc.
            let matches = match crate::parse::classify_type(declared, &self.float_ident()) {
                Some(InputKind::Float(r, _)) => ty == Ty::Float(r),
                Some(InputKind::Int(r, _)) => ty == Ty::Int(r),
                // A scalar, or a 0-d array (a full reduction), which stands for one.
                Some(InputKind::Scalar) => matches!(ty, Ty::Scalar | Ty::Float(0)),
                Some(InputKind::Usize) => ty == Ty::Usize,
                None => true,
            };
            if !matches {
                let message = messages::let_type_mismatch(
                    &l.name().to_string(),
                    &crate::diag::code(declared),
                    ty,
                );
                self.diags.error_at(declared, message);
            }
        }
        vec![v]
    }

    fn float_ident(&self) -> Ident {
        self.float_ident.clone()
    }

    /// The path of the function `e` calls, if `e` calls a function of the user's
    /// own rather than an op: a path of modules (`self::gru`, `other::gru`,
    /// not a type's `Array2::zeros`), or a name that is no op, no name from
    /// another library, not close to an op's name, and not a value in scope.
    fn function_call<'e>(&self, e: &'e Expr) -> Option<&'e syn::Path> {
        let Expr::Call(c) = strip(e) else { return None };
        let Expr::Path(p) = &*c.func else { return None };
        let segs = &p.path.segments;
        if p.qself.is_some() || segs.is_empty() {
            return None;
        }
        if segs.len() > 1 {
            let owner = segs[segs.len() - 2].ident.to_string();
            let a_type = owner.starts_with(|c: char| c.is_ascii_uppercase())
                || owner == self.float
                || owner == "f32"
                || owner == "f64";
            return (!a_type).then_some(&p.path);
        }
        let name = segs[0].ident.to_string();
        let not_a_function = name == "Axis"
            || ops::arity(&name).is_some()
            || ops::foreign(&name).is_some()
            || did_you_mean(&name, ops::all_names()).is_some()
            || self.scope.contains_key(&name);
        (!not_a_function).then_some(&p.path)
    }

    /// Lowers a call of another `#[differentiable]` function (`e`, which
    /// [`Lower::function_call`] accepted) to an `Op::Call`, typed by the
    /// `declared` type of its result: the results for a pattern of `names`
    /// names (a tuple pattern when `tuple`), one per name.
    fn call_function(
        &mut self,
        e: &Expr,
        declared: Option<&syn::Type>,
        names: usize,
        tuple: bool,
    ) -> Vec<Option<ValueId>> {
        let failed = vec![None; names];
        let (Some(path), Expr::Call(c)) = (self.function_call(e), strip(e)) else {
            return failed;
        };
        let range = self.range_of(e);
        let text = crate::diag::code(path);
        if let Some(seg) = path.segments.last()
            && !seg.arguments.is_empty()
        {
            self.diags.error_at(&seg.arguments, messages::TURBOFISH);
        }
        // Every argument is checked, so its errors show whatever else is wrong.
        let args: Vec<Option<ValueId>> = c.args.iter().map(|a| self.expr(a)).collect();
        let Some(declared) = declared else {
            let names: Vec<&str> = ops::all_names().collect();
            let bare = path.segments.len() == 1;
            let message = messages::call_result_undeclared(&text, bare.then_some(&names[..]));
            self.diags.error_range(range, message);
            return failed;
        };
        let float = self.float_ident();
        let output = |t: &syn::Type| match crate::parse::classify_type(t, &float) {
            Some(InputKind::Float(rank, Pass::Owned)) => Some(OutputSig {
                rank,
                scalar: false,
            }),
            Some(InputKind::Scalar) => Some(OutputSig {
                rank: 0,
                scalar: true,
            }),
            _ => None,
        };
        let (outputs, declared_tuple) = match strip_type(declared) {
            syn::Type::Tuple(t) if !t.elems.is_empty() => {
                (t.elems.iter().map(output).collect::<Option<Vec<_>>>(), true)
            }
            t => (output(t).map(|o| vec![o]), false),
        };
        let Some(outputs) = outputs else {
            self.diags.error_at(
                declared,
                messages::call_result_type(&crate::diag::code(declared)),
            );
            return failed;
        };
        if declared_tuple != tuple || (tuple && outputs.len() != names) {
            let results = declared_tuple.then_some(outputs.len());
            self.diags
                .error_at(declared, messages::call_pattern(&text, names, results));
            return failed;
        }
        let mut values = Vec::new();
        for (a, v) in c.args.iter().zip(args) {
            let Some(v) = v else { return failed };
            let ty = self.g.ty(v);
            if !matches!(ty, Ty::Float(_) | Ty::Int(_) | Ty::Scalar | Ty::Usize) {
                self.diags.error_at(a, messages::call_argument(ty));
                return failed;
            }
            values.push(v);
        }
        let callee = crate::ir::Callee {
            path: path.to_token_stream(),
            name: path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            outputs: outputs.clone(),
            tuple,
            index: self.calls,
            range,
            arg_texts: c.args.iter().map(source_text).collect(),
            text: source_text(e),
        };
        self.calls += 1;
        let arg_tys = values.iter().map(|&v| self.g.ty(v)).collect();
        self.g.calls.push((callee.clone(), arg_tys));
        let ty = if tuple {
            Ty::Tuple(outputs.len())
        } else {
            Ty::Float(outputs[0].rank)
        };
        let whole = source_text(e);
        let call = self.node(Op::Call(Box::new(callee)), values, ty, range.0);
        self.g.nodes[call].text = whole.clone();
        self.ranges.insert(call, range);
        if !tuple {
            return vec![Some(call)];
        }
        (0..outputs.len())
            .map(|k| {
                let ty = Ty::Float(outputs[k].rank);
                let out = self.node(Op::CallOutput(k), vec![call], ty, range.0);
                self.g.nodes[out].text = whole.clone();
                Some(out)
            })
            .collect()
    }

    /// Reports ops without a derivative that a gradient would flow through.
    fn check_gradient_path(&mut self) {
        let needs = crate::diff::needs_grad(&self.g);
        for (id, &gradient_flows) in needs.iter().enumerate() {
            if let Op::Elementwise(e) = self.g.nodes[id].op
                && e.uses.is_none()
                && gradient_flows
            {
                let span = self.g.nodes[id].span;
                self.diags.error_range(
                    self.ranges.get(&id).copied().unwrap_or((span, span)),
                    messages::no_derivative(e.name, e.doc),
                );
            }
        }
    }

    /// Whether a name was bound by a declaration or `let` whose error is already reported.
    fn failed(&self, ident: &Ident) -> bool {
        match self.scope.get(&ident.to_string()) {
            Some(v) => v.is_none(),
            None => self.unbound.iter().any(|n| ident == n),
        }
    }

    fn lookup(&mut self, ident: &Ident) -> Option<ValueId> {
        let name = ident.to_string();
        if let Some(v) = self.scope.get(&name) {
            if let Some(&i) = self.let_of.get(&name) {
                self.g.lets[i].used = true;
            }
            return *v;
        }
        if self.unbound.contains(&name) {
            return None;
        }
        if let Some((_, later)) = self
            .let_names
            .iter()
            .find(|(k, n)| *k > self.stmt && *n == name)
        {
            self.diags.error_at(
                ident,
                messages::used_before_let(&name, later.span().start().line),
            );
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        for (n, _) in &self.env {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
        let call_form;
        let hint = match did_you_mean(&name, names.iter().copied()) {
            Some(s) => ValueHint::DidYouMean(s),
            None if ops::arity(&name).is_some() => {
                call_form = ops::call_form(&name).unwrap_or_default();
                ValueHint::Op(&call_form)
            }
            None if names.is_empty() => ValueHint::NothingInScope,
            None => ValueHint::InScope(&names),
        };
        self.diags
            .error_at(&ident, messages::unknown_value(&name, hint));
        None
    }

    pub(crate) fn expr(&mut self, e: &Expr) -> Option<ValueId> {
        let v = self.expr_inner(e)?;
        if self.g.nodes[v].text.is_empty() {
            self.g.nodes[v].text = if self.heights[v] <= FULL_TEXT_HEIGHT {
                source_text(e)
            } else {
                abbreviated_text(e)
            };
        }
        Some(v)
    }

    fn expr_inner(&mut self, e: &Expr) -> Option<ValueId> {
        match e {
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    self.diags.error_at(&m, messages::MUT_REFERENCE);
                }
                self.expr(&r.expr)
            }
            Expr::Lit(l) => self.literal(&l.lit),
            Expr::Path(p) => {
                if let Some(ident) = p.path.get_ident() {
                    return self.lookup(ident);
                }
                let text = p.path.to_token_stream().to_string().replace(' ', "");
                let value = match text.as_str() {
                    "std::f64::consts::PI"
                    | "f64::consts::PI"
                    | "std::f32::consts::PI"
                    | "f32::consts::PI" => Some(std::f64::consts::PI),
                    "std::f64::consts::E"
                    | "f64::consts::E"
                    | "std::f32::consts::E"
                    | "f32::consts::E" => Some(std::f64::consts::E),
                    _ => None,
                };
                match value {
                    Some(v) => Some(self.node(Op::Const(v), vec![], Ty::Scalar, e.span())),
                    None => {
                        self.diags.error_at(&e, messages::unknown_path(&text));
                        None
                    }
                }
            }
            Expr::Unary(u) => match u.op {
                syn::UnOp::Neg(_) => {
                    let span = self.range_of(e).0;
                    self.negate(&u.expr, span)
                }
                _ => {
                    self.diags
                        .error_at(&u, messages::unary_operator(u.op.to_token_stream()));
                    None
                }
            },
            Expr::Binary(b) => {
                let span = self.range_of(e).0;
                self.binary(b, span)
            }
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else {
                    self.diags.error_at(&c.func, messages::UNNAMED_CALL);
                    return None;
                };
                if p.path.segments.len() > 1
                    && p.path.segments.first().is_some_and(|s| {
                        s.ident == self.float || s.ident == "f32" || s.ident == "f64"
                    })
                {
                    self.float_call(&p.path, c);
                    return None;
                }
                if self.function_call(e).is_some() {
                    return self.call_function(e, None, 1, false).pop().flatten();
                }
                let seg = p.path.segments.last()?;
                if !seg.arguments.is_empty() {
                    self.diags.error_at(&seg.arguments, messages::TURBOFISH);
                }
                let args: Vec<&Expr> = c.args.iter().collect();
                self.call(&seg.ident, &args, e)
            }
            Expr::MethodCall(m) => {
                if let Some(t) = &m.turbofish {
                    self.diags.error_at(&t, messages::TURBOFISH);
                }
                let args: Vec<&Expr> = std::iter::once(&*m.receiver).chain(m.args.iter()).collect();
                self.call(&m.method, &args, e)
            }
            Expr::Tuple(_) => {
                self.diags.error_at(&e, messages::TUPLE_NOT_FINAL);
                None
            }
            Expr::Range(_) => {
                self.diags.error_at(&e, messages::RANGE_OUTSIDE_SLICE);
                None
            }
            other => {
                self.diags.error_range(
                    crate::parse::syntax_range(other),
                    crate::parse::syntax_error(other),
                );
                None
            }
        }
    }

    fn literal(&mut self, lit: &Lit) -> Option<ValueId> {
        let value = match lit {
            Lit::Float(f) => f.base10_parse::<f64>().ok(),
            Lit::Int(i) => i.base10_parse::<f64>().ok(),
            _ => None,
        };
        match value {
            Some(v) if v.is_finite() => {
                Some(self.node(Op::Const(v), vec![], Ty::Scalar, lit.span()))
            }
            Some(_) => {
                self.diags.error_at(
                    lit,
                    messages::float_literal_out_of_range(&crate::diag::code(lit)),
                );
                None
            }
            None => {
                self.diags.error_at(&lit, messages::NOT_A_NUMBER_LITERAL);
                None
            }
        }
    }

    fn negate(&mut self, inner: &Expr, span: Span) -> Option<ValueId> {
        let v = self.expr(inner)?;
        match self.g.ty(v) {
            Ty::Float(r) => {
                Some(self.node(Op::Elementwise(ops::neg()), vec![v], Ty::Float(r), span))
            }
            Ty::Scalar => {
                if let Op::Const(c) = self.g.nodes[v].op {
                    return Some(self.node(Op::Const(-c), vec![], Ty::Scalar, span));
                }
                let m = self.node(Op::Const(-1.0), vec![], Ty::Scalar, span);
                Some(self.node(Op::ScalarArith(BinOp::Mul), vec![v, m], Ty::Scalar, span))
            }
            other => {
                self.not_float(inner, other, FloatUse::Negation);
                None
            }
        }
    }

    /// Reports a value of the wrong kind where a float was needed.
    fn not_float(&mut self, e: &Expr, ty: Ty, what: FloatUse<'_>) {
        self.diags.error_at(e, messages::not_float(ty, what));
    }

    fn binary(&mut self, b: &syn::ExprBinary, span: Span) -> Option<ValueId> {
        use syn::BinOp as B;
        let arith = match b.op {
            B::Add(_) => Some(BinOp::Add),
            B::Sub(_) => Some(BinOp::Sub),
            B::Mul(_) => Some(BinOp::Mul),
            B::Div(_) => Some(BinOp::Div),
            _ => None,
        };
        let cmp = match b.op {
            B::Gt(_) => Some(Compare::Gt),
            B::Ge(_) => Some(Compare::Ge),
            B::Lt(_) => Some(Compare::Lt),
            B::Le(_) => Some(Compare::Le),
            B::Eq(_) => Some(Compare::Eq),
            B::Ne(_) => Some(Compare::Ne),
            _ => None,
        };
        if arith.is_none() && cmp.is_none() {
            let message = if crate::parse::is_compound_assign(&b.op) {
                messages::COMPOUND_ASSIGNMENT
            } else {
                messages::binary_operator(b.op.to_token_stream())
            };
            self.diags.error_at(&b.op, message);
            return None;
        }
        let (l, r) = (self.expr(&b.left), self.expr(&b.right));
        let (l, r) = (l?, r?);
        let (lt, rt) = (self.g.ty(l), self.g.ty(r));
        // Sizes with sizes or integer literals; a size beside a float is reported below.
        let size_like = |v: ValueId| match (self.g.ty(v), &self.g.nodes[v].op) {
            (Ty::Usize, _) => true,
            (Ty::Scalar, Op::Const(c)) => c.fract() == 0.0,
            _ => false,
        };
        if let Some(op) = arith
            && (lt == Ty::Usize || rt == Ty::Usize)
            && size_like(l)
            && size_like(r)
        {
            return self.usize_arith(b, op, (l, r), span);
        }
        let mut bad = false;
        for (e, t) in [(&*b.left, lt), (&*b.right, rt)] {
            if !matches!(t, Ty::Float(_) | Ty::Scalar) {
                let what = if cmp.is_some() {
                    FloatUse::Comparison
                } else {
                    FloatUse::Arithmetic
                };
                self.not_float(e, t, what);
                bad = true;
            }
        }
        if bad {
            return None;
        }
        let rank = lt.rank().unwrap_or(0).max(rt.rank().unwrap_or(0));
        if let Some(cmp) = cmp {
            if lt == Ty::Scalar && rt == Ty::Scalar {
                self.diags.error_at(b, messages::COMPARE_SCALARS);
                return None;
            }
            return Some(self.node(Op::Compare(cmp), vec![l, r], Ty::Mask(rank), span));
        }
        let op = arith.expect("arithmetic or comparison");
        Some(match (lt, rt) {
            (Ty::Float(_), Ty::Float(_)) => {
                self.node(Op::Binary(op), vec![l, r], Ty::Float(rank), span)
            }
            (Ty::Float(_), Ty::Scalar) => {
                let sop = match op {
                    BinOp::Add => ScalarOp::Add,
                    BinOp::Sub => ScalarOp::Sub,
                    BinOp::Mul => ScalarOp::Mul,
                    _ => ScalarOp::Div,
                };
                self.node(Op::WithScalar(sop), vec![l, r], Ty::Float(rank), span)
            }
            (Ty::Scalar, Ty::Float(_)) => {
                let sop = match op {
                    BinOp::Add => ScalarOp::Add,
                    BinOp::Sub => ScalarOp::RSub,
                    BinOp::Mul => ScalarOp::Mul,
                    _ => ScalarOp::RDiv,
                };
                self.node(Op::WithScalar(sop), vec![r, l], Ty::Float(rank), span)
            }
            _ => {
                let folded = match (&self.g.nodes[l].op, &self.g.nodes[r].op) {
                    (Op::Const(a), Op::Const(c)) => Some(op.apply(*a, *c)),
                    _ => None,
                };
                // A constant is emitted as a literal, and inf and NaN have none:
                // those are left for the program to compute, as Rust would.
                if let Some(v) = folded.filter(|v| v.is_finite()) {
                    self.node(Op::Const(v), vec![], Ty::Scalar, span)
                } else {
                    self.node(Op::ScalarArith(op), vec![l, r], Ty::Scalar, span)
                }
            }
        })
    }

    /// Arithmetic on sizes (`x.len_of(Axis(1)) / 2`): both sides `usize` values or
    /// non-negative integer literals.
    fn usize_arith(
        &mut self,
        b: &syn::ExprBinary,
        op: BinOp,
        (l, r): (ValueId, ValueId),
        span: Span,
    ) -> Option<ValueId> {
        let as_usize = |this: &mut Self, v: ValueId, e: &Expr| -> Option<ValueId> {
            match (this.g.ty(v), &this.g.nodes[v].op) {
                (Ty::Usize, _) => Some(v),
                (Ty::Scalar, Op::Const(c))
                    if c.fract() == 0.0 && *c >= 0.0 && *c <= u32::MAX as f64 =>
                {
                    let n = *c as usize;
                    Some(this.node(Op::UsizeConst(n), vec![], Ty::Usize, this.g.nodes[v].span))
                }
                (ty, _) => {
                    this.diags.error_at(e, messages::mixed_with_size(ty));
                    None
                }
            }
        };
        let (l, r) = (as_usize(self, l, &b.left), as_usize(self, r, &b.right));
        let op = match op {
            BinOp::Add => UsizeOp::Add,
            BinOp::Sub => UsizeOp::Sub,
            BinOp::Mul => UsizeOp::Mul,
            _ => UsizeOp::Div,
        };
        self.size_arith(op, l?, r?, &b.op, span)
    }

    /// `l op r` on sizes, computed here when both are constants, so that the
    /// checks of constant bounds and strides see the value; a constant that
    /// underflows or divides by zero is an error rather than a panic at run time.
    fn size_arith(
        &mut self,
        op: UsizeOp,
        l: ValueId,
        r: ValueId,
        at: &syn::BinOp,
        span: Span,
    ) -> Option<ValueId> {
        let (Some(a), Some(b)) = (self.usize_constant(l), self.usize_constant(r)) else {
            return Some(self.node(Op::UsizeArith(op), vec![l, r], Ty::Usize, span));
        };
        match op.apply(a, b) {
            Some(n) => Some(self.node(Op::UsizeConst(n), vec![], Ty::Usize, span)),
            None => {
                let message =
                    messages::size_arithmetic(a, &crate::diag::code(at), b, op == UsizeOp::Div);
                self.diags.error_at(at, message);
                None
            }
        }
    }

    /// A float array argument (a scalar literal is not allowed where an array is needed).
    pub(crate) fn array_arg(&mut self, e: &Expr, op: &str) -> Option<(ValueId, usize)> {
        let v = self.expr(e)?;
        match self.g.ty(v) {
            Ty::Float(r) => Some((v, r)),
            Ty::Scalar => {
                self.diags.error_at(&e, messages::array_not_scalar(op));
                None
            }
            other => {
                self.not_float(e, other, FloatUse::Op(op));
                None
            }
        }
    }

    /// A float array or a scalar (for ops that broadcast).
    pub(crate) fn operand(&mut self, e: &Expr, op: &str) -> Option<(ValueId, usize)> {
        let v = self.expr(e)?;
        match self.g.ty(v) {
            Ty::Float(r) => Some((v, r)),
            Ty::Scalar => Some((v, 0)),
            other => {
                self.not_float(e, other, FloatUse::Op(op));
                None
            }
        }
    }

    /// A constant parameter: a literal or a `#[no_grad]` scalar input.
    fn param(&mut self, e: &Expr, op: &str, param: &str) -> Option<ValueId> {
        let v = self.expr(e)?;
        if self.g.ty(v) == Ty::Scalar {
            return Some(v);
        }
        self.diags
            .error_at(&e, messages::parameter_not_constant(op, param));
        None
    }

    /// An integer parameter (the exponent of `powi`): an integer literal that fits
    /// in an `i32`, or a `usize` input. A float is an error, never truncated.
    fn integer_param(&mut self, e: &Expr, op: &str, param: &str) -> Option<ValueId> {
        let v = self.expr(e)?;
        let message = match (self.g.ty(v), &self.g.nodes[v].op) {
            (Ty::Usize, _) => return Some(v),
            (Ty::Scalar, Op::Const(c)) if c.fract() == 0.0 && c.abs() <= f64::from(i32::MAX) => {
                return Some(v);
            }
            (Ty::Scalar, Op::Const(c)) if c.fract() == 0.0 => {
                messages::exponent_out_of_range(&crate::diag::code(e), op)
            }
            (Ty::Scalar, Op::Const(_)) => {
                messages::exponent_not_integer(op, param, &crate::diag::code(e))
            }
            (ty, _) => messages::exponent_wrong_type(op, param, ty, &crate::diag::code(e)),
        };
        self.diags.error_at(&e, message);
        None
    }

    /// Constant parameters whose values make the op meaningless: caught here
    /// rather than turned into a constant with zero gradient.
    fn check_param_values(&mut self, e: &Elementwise, args: &[&Expr], params: &[ValueId]) {
        let constant = |v: ValueId| match self.g.nodes[v].op {
            Op::Const(c) => Some(c),
            _ => None,
        };
        match (e.name, params) {
            ("clip", &[lo, hi]) => {
                if let (Some(l), Some(h)) = (constant(lo), constant(hi))
                    && l >= h
                {
                    let (a, b) = (crate::diag::code(args[1]), crate::diag::code(args[2]));
                    let message = if l == h {
                        messages::clip_equal_bounds(&a, &b)
                    } else {
                        messages::clip_reversed_bounds(&a, &b)
                    };
                    self.diags
                        .error_range((span_range(args[1]).0, span_range(args[2]).1), message);
                }
            }
            ("huber", &[delta]) => {
                if let Some(d) = constant(delta)
                    && d <= 0.0
                {
                    self.diags.error_at(
                        args[1],
                        messages::huber_delta_not_positive(&crate::diag::code(args[1])),
                    );
                }
            }
            _ => {}
        }
    }

    /// An axis: `Axis(k)` or a plain integer literal, checked against a rank.
    pub(crate) fn axis(&mut self, e: &Expr, rank: usize, op: &str) -> Option<usize> {
        let inner = match e {
            Expr::Call(c)
                if matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Axis"))
                    && c.args.len() == 1 =>
            {
                &c.args[0]
            }
            other => other,
        };
        let k = match inner {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => i.base10_parse::<usize>().ok(),
            _ => None,
        };
        let Some(k) = k else {
            if let Expr::Path(p) = inner
                && let Some(name) = p.path.get_ident()
                && self.failed(name)
            {
                return None;
            }
            self.diags.error_at(&e, messages::axis_not_constant(op));
            return None;
        };
        if k >= rank {
            self.diags
                .error_at(&e, messages::axis_out_of_range(k, rank));
            return None;
        }
        Some(k)
    }

    /// An integer index array of rank 1.
    pub(crate) fn index_arg(&mut self, e: &Expr, op: &str) -> Option<ValueId> {
        let v = self.expr(e)?;
        match self.g.ty(v) {
            Ty::Int(1) => Some(v),
            other => {
                self.diags.error_at(&e, messages::index_not_1d(op, other));
                None
            }
        }
    }

    /// A `usize` expression: literal, `usize` input or binding, `len_of`, and `+ - * /`.
    pub(crate) fn usize_expr(&mut self, e: &Expr) -> Option<ValueId> {
        match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => match i.base10_parse::<usize>() {
                Ok(n) => Some(self.node(Op::UsizeConst(n), vec![], Ty::Usize, e.span())),
                Err(_) => {
                    self.diags.error_at(&e, messages::INVALID_USIZE);
                    None
                }
            },
            Expr::Paren(p) => self.usize_expr(&p.expr),
            Expr::Binary(b) => {
                use syn::BinOp as B;
                let op = match b.op {
                    B::Add(_) => UsizeOp::Add,
                    B::Sub(_) => UsizeOp::Sub,
                    B::Mul(_) => UsizeOp::Mul,
                    B::Div(_) => UsizeOp::Div,
                    _ => {
                        self.diags.error_at(&b.op, messages::SIZE_OPERATOR);
                        return None;
                    }
                };
                let (l, r) = (self.usize_expr(&b.left), self.usize_expr(&b.right));
                let span = self.range_of(e).0;
                self.size_arith(op, l?, r?, &b.op, span)
            }
            other => {
                let v = self.expr(other)?;
                if self.g.ty(v) == Ty::Usize {
                    return Some(v);
                }
                let message = messages::expected_usize(self.g.ty(v));
                self.diags.error_at(&other, message);
                None
            }
        }
    }

    /// A call of a function of the float type, such as `T::lit(0.5)` (the crate's
    /// own hand-written code needs those, a differentiable body does not).
    fn float_call(&mut self, path: &syn::Path, call: &syn::ExprCall) {
        let last = path.segments.last().map(|s| s.ident.to_string());
        let literal = match call.args.first() {
            Some(Expr::Lit(l)) if call.args.len() == 1 => Some(crate::diag::code(l)),
            Some(Expr::Unary(u)) if call.args.len() == 1 && matches!(u.op, syn::UnOp::Neg(_)) => {
                Some(crate::diag::code(u))
            }
            _ => None,
        };
        let whole = crate::diag::code(call);
        let message = match (last.as_deref(), literal) {
            (Some("lit" | "from" | "from_f64" | "from_f32"), Some(lit)) => {
                messages::float_function_of_literal(&whole, &lit)
            }
            (Some("one"), _) => messages::float_function_one(&whole),
            (Some("zero"), _) => messages::float_function_zero(&whole),
            _ => messages::float_function(&crate::diag::code(path)),
        };
        self.diags.error_at(call, message);
    }

    fn call(&mut self, name: &Ident, args: &[&Expr], whole: &Expr) -> Option<ValueId> {
        let range = self.range_of(whole);
        let span = range.0;
        let op = name.to_string();
        if op == "Axis" {
            self.diags.error_range(range, messages::AXIS_NOT_A_VALUE);
            return None;
        }
        let Some(arity) = ops::arity(&op) else {
            let (usage, names);
            let hint = match (ops::foreign(&op), did_you_mean(&op, ops::all_names())) {
                (Some(instead), _) => OpHint::Foreign(instead),
                (None, Some(s)) => {
                    usage = ops::usage(s).unwrap_or_default();
                    OpHint::DidYouMean(s, &usage)
                }
                (None, None) => {
                    names = ops::all_names().collect::<Vec<_>>();
                    OpHint::Ops(&names)
                }
            };
            let function_call = matches!(whole, Expr::Call(_));
            self.diags
                .error_at(&name, messages::unknown_op(&op, hint, function_call));
            return None;
        };
        if args.len() != arity {
            let usage = ops::usage(&op).unwrap_or_default();
            self.diags
                .error_range(range, messages::wrong_arity(&op, arity, args.len(), &usage));
            return None;
        }
        let v = match (Elementwise::find(&op), ops::syntax(&op)) {
            (Some(e), _) => self.elementwise(e, args, span)?,
            (None, Some(syntax)) => {
                let call = ops::Call {
                    name: &op,
                    args,
                    span,
                    range,
                };
                (syntax.check)(self, &call)?
            }
            // `ops::arity` found the name: it is elementwise or has a syntax.
            (None, None) => return None,
        };
        self.ranges.insert(v, range);
        Some(v)
    }

    fn elementwise(
        &mut self,
        e: &'static Elementwise,
        args: &[&Expr],
        span: Span,
    ) -> Option<ValueId> {
        let x = self.operand(args[0], e.name);
        let mut params = Vec::new();
        for (arg, param) in args[1..].iter().zip(e.params) {
            params.push(if param.integer {
                self.integer_param(arg, e.name, param.name)
            } else {
                self.param(arg, e.name, param.name)
            });
        }
        let (x, rank) = x?;
        let params: Vec<ValueId> = params.into_iter().collect::<Option<_>>()?;
        self.check_param_values(e, args, &params);
        if self.g.ty(x) == Ty::Scalar {
            self.diags
                .error_at(&args[0], messages::elementwise_of_scalar(e.name));
            return None;
        }
        let mut all = vec![x];
        all.extend(params);
        Some(self.node(Op::Elementwise(e), all, Ty::Float(rank), span))
    }
}
