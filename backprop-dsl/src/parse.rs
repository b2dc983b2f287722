//! Stage 1: the attribute's options and the function's signature and statements.
//! Rejects everything that is not a function of supported inputs and outputs
//! made of `let` bindings and a final expression; expressions are checked later.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{
    Expr, FnArg, GenericArgument, GenericParam, Ident, ItemFn, Pat, PathArguments, ReturnType,
    Stmt, Type,
};

use crate::diag::{Diagnostics, code, span_range};
use crate::messages::{self, InputHint, Message};

/// Options of `#[differentiable(...)]`.
#[derive(Clone, Debug)]
pub struct Options {
    /// `layer = Name`: also implement `Layer` for the struct `Name` (written with
    /// its generics, `Name<T>`, or without them for `Name<T>` of the float type).
    pub layer: Option<syn::Type>,
    /// `input = (x, h)`: with `layer`, the layer's input is these leading
    /// inputs together (a tuple), not the first alone; where it was written.
    pub layer_input: Option<(Span, Vec<Ident>)>,
    /// `cell = Name`: the function is one step of a recurrence `(x, state) ->
    /// state`; implement `layers::Cell` (and `Parameters`) for the struct `Name`,
    /// whose fields are the inputs after the state.
    pub cell: Option<syn::Type>,
    /// `recurrence = wh`: with `cell`, the field whose matrix multiplies the
    /// hidden state at each step (the monitors estimate its largest singular value).
    pub recurrence: Option<Ident>,
    /// `crate = path`: the path of the runtime crate (default `::backprop`).
    pub krate: syn::Path,
    /// `allow(..)`, `warn(..)`, `deny(..)`: lint levels for this function, in order.
    pub lints: Vec<crate::lints::LevelSetting>,
    /// `check(input = value, ..)`: emit a `#[test]` that gradient-checks the
    /// function on seeded random inputs of these shapes.
    pub check: Option<CheckSpec>,
    /// `backward = path`: the user's own backward, which `NAME_backward` calls
    /// (the derived one stays, as `NAME_derived_backward`, for the test).
    pub backward: Option<syn::Path>,
    /// `surrogate`: the user's backward differs from the derivative on purpose
    /// (a surrogate gradient, a straight-through estimator); where the keyword is.
    pub surrogate: Option<Span>,
}

/// The inputs of the generated gradient test: `check(x = [4, 3], labels = [4] < 3,
/// eps = 0.1, n = 2, seed = 7)`.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    /// The `check` keyword, where errors about the whole option point.
    pub span: Span,
    /// One entry per named input, in the order written.
    pub inputs: Vec<(Ident, syn::Expr)>,
    /// The test's inputs, once checked against the function's
    /// ([`crate::gradtest::plan`]); `None` before, or with errors.
    pub plan: Option<crate::gradtest::CheckPlan>,
}

pub use crate::ir::{InputKind, Pass};

/// One declared input.
#[derive(Clone, Debug)]
pub struct InputDecl {
    /// Its name.
    pub name: Ident,
    /// What it is.
    pub kind: InputKind,
    /// Marked `#[no_grad]`.
    pub no_grad: bool,
    /// Its declared type.
    pub ty: Type,
}

/// One `let` statement: `let name = value;`, `let name: Type = value;`, or
/// `let (a, b): (A, B) = f(..);` for a call of a function returning a tuple.
#[derive(Clone, Debug)]
pub struct Let {
    /// The bound names: one, or one per element of a tuple pattern.
    pub names: Vec<Ident>,
    /// The pattern is a tuple (whose use check allows only for a call).
    pub tuple: bool,
    /// The pattern's first and last token, for errors about it.
    pub pat_range: (Span, Span),
    /// The declared type, if written.
    pub ty: Option<Type>,
    /// The value.
    pub expr: Expr,
}

impl Let {
    /// The first bound name, which names the statement in messages.
    pub fn name(&self) -> &Ident {
        &self.names[0]
    }
}

/// A parsed `#[differentiable]` function.
#[derive(Clone, Debug)]
pub struct FnDef {
    /// The function as written, with `#[no_grad]` markers removed.
    pub item: ItemFn,
    /// The float type: the generic parameter (`T`) or `f32`/`f64`.
    pub float: Ident,
    /// Whether `float` is a generic parameter.
    pub generic: bool,
    /// The inputs.
    pub inputs: Vec<InputDecl>,
    /// Output ranks (0 for a scalar `T`), one per tuple element.
    pub outputs: Vec<usize>,
    /// Whether the output is a tuple.
    pub tuple_output: bool,
    /// The declared output types.
    pub output_tys: Vec<Type>,
    /// For each output, whether it is declared as a float scalar `T` (rank 0, given
    /// back with `into_scalar`) rather than an array (an `Array0<T>` stays an array).
    pub output_scalar: Vec<bool>,
    /// `let` bindings in order.
    pub lets: Vec<Let>,
    /// The final expression.
    pub tail: Expr,
    /// Names whose declaration was rejected (an input of an unsupported type, a
    /// destructuring `let`): their uses are not reported again.
    pub unbound: Vec<String>,
}

/// Parses the attribute's arguments.
pub fn parse_options(attr: TokenStream, diags: &mut Diagnostics) -> Options {
    let mut options = Options {
        layer: None,
        layer_input: None,
        cell: None,
        recurrence: None,
        krate: syn::parse_quote!(::backprop),
        lints: Vec::new(),
        check: None,
        backward: None,
        surrogate: None,
    };
    if attr.is_empty() {
        return options;
    }
    let mut help = messages::options_help();
    let parser = syn::meta::parser(|meta| {
        let value = || {
            meta.value()
                .map_err(|_| meta.error(messages::option_needs_value(&code(&meta.path))))
        };
        if meta.path.is_ident("layer") {
            options.layer = Some(value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("input") {
            let span = syn::spanned::Spanned::span(&meta.path);
            let expr = match value()?.parse::<syn::Expr>()? {
                syn::Expr::Paren(p) => *p.expr,
                e => e,
            };
            let names = match expr {
                syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                    p.path.get_ident().into_iter().cloned().collect()
                }
                syn::Expr::Tuple(t) if !t.elems.is_empty() => t
                    .elems
                    .iter()
                    .map(|e| match e {
                        syn::Expr::Path(p) => p.path.get_ident().cloned(),
                        _ => None,
                    })
                    .collect::<Option<Vec<Ident>>>()
                    .ok_or_else(|| meta.error(messages::LAYER_INPUT_OPTION))?,
                _ => return Err(meta.error(messages::LAYER_INPUT_OPTION)),
            };
            options.layer_input = Some((span, names));
            Ok(())
        } else if meta.path.is_ident("crate") {
            options.krate = value()?.parse()?;
            Ok(())
        } else if meta.path.is_ident("cell") {
            options.cell = Some(value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("recurrence") {
            options.recurrence = Some(value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("backward") {
            options.backward = Some(value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("surrogate") {
            options.surrogate = Some(syn::spanned::Spanned::span(&meta.path));
            Ok(())
        } else if meta.path.is_ident("check") {
            let mut spec = CheckSpec {
                span: syn::spanned::Spanned::span(&meta.path),
                inputs: Vec::new(),
                plan: None,
            };
            meta.parse_nested_meta(|input| {
                let Some(name) = input.path.get_ident().cloned() else {
                    return Err(input.error(messages::CHECK_ENTRY_NAME));
                };
                let expr: syn::Expr = input
                    .value()
                    .map_err(|_| input.error(messages::check_needs_value(&name.to_string())))?
                    .parse()?;
                spec.inputs.push((name, expr));
                Ok(())
            })?;
            options.check = Some(spec);
            Ok(())
        } else if let Some(level) = ["allow", "warn", "deny"]
            .iter()
            .position(|l| meta.path.is_ident(l))
        {
            use crate::lints::Level;
            let level = [Level::Allow, Level::Warn, Level::Deny][level];
            meta.parse_nested_meta(|lint| {
                let name = code(&lint.path);
                match crate::lints::find(&name) {
                    Some(l) => {
                        options
                            .lints
                            .push(crate::lints::LevelSetting { lint: l, level });
                        Ok(())
                    }
                    None => {
                        help = crate::lints::unknown_help(&name);
                        Err(lint.error(messages::unknown_lint(&name)))
                    }
                }
            })
        } else {
            let name = code(&meta.path);
            if let Some(s) = crate::diag::did_you_mean(
                &name,
                [
                    "layer",
                    "input",
                    "cell",
                    "recurrence",
                    "crate",
                    "check",
                    "backward",
                    "surrogate",
                    "allow",
                    "warn",
                    "deny",
                ],
            ) {
                help = messages::unknown_option_help(s);
            }
            Err(meta.error(messages::unknown_option(&name)))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, attr) {
        diags.error_range(
            span_range(&e.to_compile_error()),
            messages::invalid_option(e, help),
        );
    }
    options
}

/// Where the error about an item that is not a function points: its keyword and name.
fn item_range(item: &syn::Item) -> (Span, Span) {
    use syn::Item;
    let at = |kw: &dyn ToTokens, name: &dyn ToTokens| (span_range(kw).0, span_range(name).1);
    match item {
        Item::Struct(s) => at(&s.struct_token, &s.ident),
        Item::Enum(e) => at(&e.enum_token, &e.ident),
        Item::Union(u) => at(&u.union_token, &u.ident),
        Item::Trait(t) => at(&t.trait_token, &t.ident),
        Item::Impl(i) => at(&i.impl_token, &i.self_ty),
        Item::Mod(m) => at(&m.mod_token, &m.ident),
        Item::Const(c) => at(&c.const_token, &c.ident),
        Item::Static(s) => at(&s.static_token, &s.ident),
        Item::Type(t) => at(&t.type_token, &t.ident),
        other => span_range(other),
    }
}

/// Parses the item the attribute is on.
pub fn parse_fn(item: TokenStream, diags: &mut Diagnostics) -> Option<FnDef> {
    let mut item: ItemFn = match syn::parse2::<syn::Item>(item) {
        Ok(syn::Item::Fn(f)) => f,
        Ok(other) => {
            diags.error_range(item_range(&other), messages::not_a_function(&other));
            return None;
        }
        // Not valid Rust. rustc reports the syntax error itself before expanding the
        // attribute, so `expand` does not show this one (see `crate::expand`).
        Err(e) => {
            diags.error_range(
                span_range(&e.to_compile_error()),
                messages::unparsable_item(e),
            );
            return None;
        }
    };
    // A second `#[differentiable]` would expand again on the function this one
    // gives back, generating every item twice.
    for again in item.attrs.iter().filter(|a| is_differentiable(a)) {
        diags.error_at(again, messages::DIFFERENTIABLE_TWICE);
    }
    item.attrs.retain(|a| !is_differentiable(a));
    check_signature_flags(&item, diags);
    let float = find_float(&item, diags)?;
    let generic = item.sig.generics.type_params().next().is_some();
    let mut unbound = Vec::new();
    let inputs = parse_inputs(&mut item, &float, &mut unbound, diags);
    let (outputs, output_scalar, output_tys, tuple_output) = parse_output(&item, &float, diags);
    let (lets, tail) = parse_body(&item, &mut unbound, diags)?;
    Some(FnDef {
        item,
        float,
        generic,
        inputs,
        outputs,
        tuple_output,
        output_tys,
        output_scalar,
        lets,
        tail,
        unbound,
    })
}

/// Whether an attribute is `#[differentiable]` (under any path).
pub fn is_differentiable(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "differentiable")
}

fn check_signature_flags(item: &ItemFn, diags: &mut Diagnostics) {
    let sig = &item.sig;
    if let Some(t) = &sig.asyncness {
        diags.error_at(&t, messages::ASYNC_FN);
    }
    if let Some(t) = &sig.constness {
        diags.error_at(&t, messages::CONST_FN);
    }
    if let syn::Safety::Unsafe(t) = &sig.safety {
        diags.error_at(&t, messages::UNSAFE_FN);
    }
    if let Some(abi) = &sig.abi {
        diags.error_at(&abi, messages::EXTERN_FN);
    }
    if let Some(v) = &sig.variadic {
        diags.error_at(&v, messages::VARIADIC_FN);
    }
}

/// The float type: the one type parameter, or `f32`/`f64` if there is none.
fn find_float(item: &ItemFn, diags: &mut Diagnostics) -> Option<Ident> {
    let mut float = None;
    for param in &item.sig.generics.params {
        match param {
            GenericParam::Type(t) if float.is_none() => float = Some(t.ident.clone()),
            GenericParam::Type(t) => {
                diags.error_at(&t.ident, messages::second_type_parameter(&t.ident));
            }
            GenericParam::Const(c) => diags.error_at(&c.ident, messages::CONST_GENERIC),
            GenericParam::Lifetime(_) => {}
        }
    }
    if float.is_some() {
        return float;
    }
    // No type parameter: the float type is whichever of f32/f64 the signature names.
    let text = item.sig.to_token_stream().to_string();
    let has = |name: &str| {
        text.split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|w| w == name)
    };
    match (has("f32"), has("f64")) {
        (true, false) => Some(Ident::new("f32", Span::call_site())),
        (false, true) => Some(Ident::new("f64", Span::call_site())),
        (true, true) => {
            diags.error_at(&item.sig.ident, messages::MIXED_FLOAT_TYPES);
            None
        }
        (false, false) => {
            diags.error_at(&item.sig.ident, messages::NO_FLOAT_TYPE);
            None
        }
    }
}

fn parse_inputs(
    item: &mut ItemFn,
    float: &Ident,
    unbound: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Vec<InputDecl> {
    let mut inputs = Vec::new();
    for arg in item.sig.inputs.iter_mut() {
        let pat_type = match arg {
            FnArg::Receiver(r) => {
                diags.error_at(&r, messages::SELF_INPUT);
                unbound.push("self".to_string());
                continue;
            }
            FnArg::Typed(p) => p,
        };
        let no_grad_attr = pat_type
            .attrs
            .iter()
            .find(|a| a.path().is_ident("no_grad"))
            .map(span_range);
        pat_type.attrs.retain(|a| !a.path().is_ident("no_grad"));
        let no_grad = no_grad_attr.is_some();
        let name = match &*pat_type.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                if let Some(m) = &p.mutability {
                    diags.error_at(&m, messages::MUT_INPUT);
                }
                p.ident.clone()
            }
            other => {
                diags.error_at(&other, messages::INPUT_PATTERN);
                pat_idents(other, unbound);
                continue;
            }
        };
        let Some(kind) = classify_type(&pat_type.ty, float) else {
            diags.error_at(&pat_type.ty, input_type_error(&pat_type.ty, float));
            unbound.push(name.to_string());
            continue;
        };
        if let Some(attr) = no_grad_attr
            && matches!(kind, InputKind::Int(..) | InputKind::Usize)
        {
            diags.error_range(attr, messages::NO_GRAD_ON_INTEGER);
        }
        inputs.push(InputDecl {
            name,
            kind,
            no_grad,
            ty: (*pat_type.ty).clone(),
        });
    }
    inputs
}

/// The error for an input type that is not supported, as specific as the type allows.
fn input_type_error(ty: &Type, float: &Ident) -> Message {
    let error = |hint| messages::unsupported_input_type(&code(ty), hint);
    if let Type::Reference(r) = ty {
        if r.mutability.is_some() {
            return messages::MUT_REF_INPUT;
        }
        if matches!(&*r.elem, Type::Slice(_)) {
            return error(InputHint::NotAnArray);
        }
    }
    let Type::Path(p) = ty else {
        return error(InputHint::Other);
    };
    let Some(seg) = p.path.segments.last() else {
        return error(InputHint::Other);
    };
    let name = seg.ident.to_string();
    let args: Vec<&Type> = match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let ints = [
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
    ];
    let float = float.to_string();
    if ints.contains(&name.as_str()) {
        return error(InputHint::Integer);
    }
    if (name == "f32" || name == "f64") && float != name {
        return error(InputHint::OtherFloat(&float));
    }
    if name == "Vec" {
        return error(InputHint::NotAnArray);
    }
    if name.starts_with("Array") {
        if name.ends_with('D') || args.iter().any(|a| code(*a) == "IxDyn") {
            return error(InputHint::DynamicRank);
        }
        if let Some(elem) = args.first() {
            let elem = code(*elem);
            if ints.contains(&elem.as_str()) {
                return error(InputHint::IntegerArray(&name));
            }
            if float != elem && elem != "usize" {
                return error(InputHint::ElementType(&name, &float));
            }
        }
        return error(InputHint::Rank(&float));
    }
    error(InputHint::Other)
}

/// Output ranks, which outputs are scalars `T`, the declared types, and whether it is a tuple.
type Outputs = (Vec<usize>, Vec<bool>, Vec<Type>, bool);

fn parse_output(item: &ItemFn, float: &Ident, diags: &mut Diagnostics) -> Outputs {
    let ty = match &item.sig.output {
        ReturnType::Default => {
            diags.error(item.sig.paren_token.span.close(), messages::NO_RETURN_TYPE);
            return (Vec::new(), Vec::new(), Vec::new(), false);
        }
        ReturnType::Type(_, ty) => ty,
    };
    let (elems, tuple): (Vec<&Type>, bool) = match &**ty {
        Type::Tuple(t) if t.elems.is_empty() => {
            diags.error_at(&**ty, messages::UNIT_RETURN_TYPE);
            return (Vec::new(), Vec::new(), Vec::new(), false);
        }
        Type::Tuple(t) => (t.elems.iter().collect(), true),
        other => (vec![other], false),
    };
    let (mut ranks, mut scalar) = (Vec::new(), Vec::new());
    for elem in &elems {
        match classify_type(elem, float) {
            Some(InputKind::Float(rank, Pass::Owned)) => {
                ranks.push(rank);
                scalar.push(false);
            }
            Some(InputKind::Scalar) => {
                ranks.push(0);
                scalar.push(true);
            }
            _ => diags.error_at(&elem, messages::unsupported_return_type(&code(elem))),
        }
    }
    (ranks, scalar, elems.into_iter().cloned().collect(), tuple)
}

/// Classifies a type as one of the supported input kinds.
pub fn classify_type(ty: &Type, float: &Ident) -> Option<InputKind> {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => match classify_type(&r.elem, float)? {
            InputKind::Float(rank, Pass::Owned) => Some(InputKind::Float(rank, Pass::Ref)),
            InputKind::Int(rank, Pass::Owned) => Some(InputKind::Int(rank, Pass::Ref)),
            _ => None,
        },
        Type::Paren(p) => classify_type(&p.elem, float),
        Type::Group(g) => classify_type(&g.elem, float),
        Type::Path(p) if p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            let name = seg.ident.to_string();
            if p.path.segments.len() == 1 && seg.arguments.is_empty() {
                if seg.ident == *float {
                    return Some(InputKind::Scalar);
                }
                if name == "usize" {
                    return Some(InputKind::Usize);
                }
            }
            let (base, rank_suffix) = split_rank(&name)?;
            let args = match &seg.arguments {
                PathArguments::AngleBracketed(a) => a,
                _ => return None,
            };
            let types: Vec<&Type> = args
                .args
                .iter()
                .filter_map(|a| match a {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect();
            let (elem, rank) = match (rank_suffix, types.as_slice()) {
                (Some(rank), [elem]) => (*elem, rank),
                (None, [elem, dim]) => (*elem, ix_rank(dim)?),
                _ => return None,
            };
            let pass = match base {
                "ArrayView" => Pass::View,
                "Array" => Pass::Owned,
                _ => return None,
            };
            let elem_name = match elem {
                Type::Path(e) if e.path.segments.len() == 1 => e.path.segments[0].ident.to_string(),
                _ => return None,
            };
            if *float == elem_name {
                Some(InputKind::Float(rank, pass))
            } else if elem_name == "usize" {
                Some(InputKind::Int(rank, pass))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `ArrayView2` -> ("ArrayView", Some(2)); `Array` -> ("Array", None). `ArrayRef` counts as a borrowed `Array`.
fn split_rank(name: &str) -> Option<(&'static str, Option<usize>)> {
    for base in ["ArrayView", "ArrayRef", "Array"] {
        if let Some(rest) = name.strip_prefix(base) {
            let base = if base == "ArrayRef" { "Array" } else { base };
            return match rest {
                "" => Some((base, None)),
                d if d.len() == 1 && ('0'..='6').contains(&d.chars().next()?) => {
                    Some((base, d.parse().ok()))
                }
                _ => None,
            };
        }
    }
    None
}

fn ix_rank(ty: &Type) -> Option<usize> {
    let Type::Path(p) = ty else { return None };
    let name = p.path.segments.last()?.ident.to_string();
    let d = name.strip_prefix("Ix")?;
    let rank: usize = d.parse().ok()?;
    (rank <= 6).then_some(rank)
}

/// The names a pattern binds.
fn pat_idents(pat: &Pat, out: &mut Vec<String>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.to_string());
            if let Some((_, sub)) = &p.subpat {
                pat_idents(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::Slice(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::Or(t) => t.cases.iter().for_each(|p| pat_idents(p, out)),
        Pat::Struct(t) => t.fields.iter().for_each(|f| pat_idents(&f.pat, out)),
        Pat::Type(t) => pat_idents(&t.pat, out),
        Pat::Reference(r) => pat_idents(&r.pat, out),
        Pat::Paren(p) => pat_idents(&p.pat, out),
        _ => {}
    }
}

fn parse_body(
    item: &ItemFn,
    unbound: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Option<(Vec<Let>, Expr)> {
    let stmts = &item.block.stmts;
    let mut lets: Vec<Let> = Vec::new();
    let mut tail = None;
    for (i, stmt) in stmts.iter().enumerate() {
        let last = i + 1 == stmts.len();
        match stmt {
            Stmt::Local(local) => {
                for attr in &local.attrs {
                    let message = if attr.path().is_ident("no_grad") {
                        messages::NO_GRAD_ON_LET
                    } else {
                        messages::attribute_on_let(&code(attr.path()))
                    };
                    diags.error_at(attr, message);
                }
                let (pat, ty) = match &local.pat {
                    Pat::Type(t) => (&*t.pat, Some((*t.ty).clone())),
                    p => (p, None),
                };
                let plain = |p: &Pat, diags: &mut Diagnostics| match p {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        if p.mutability.is_some() {
                            diags.error_at(p, messages::MUT_BINDING);
                        }
                        Some(p.ident.clone())
                    }
                    _ => None,
                };
                // A tuple of plain names, which only a call's results may bind (check says so).
                let (names, tuple) = match pat {
                    Pat::Tuple(t) if !t.elems.is_empty() => {
                        // `_` skips a result.
                        let names: Option<Vec<Ident>> = t
                            .elems
                            .iter()
                            .map(|p| match p {
                                Pat::Wild(w) => Some(Ident::new("_", w.underscore_token.span)),
                                p => plain(p, diags),
                            })
                            .collect();
                        if let Some(names) = &names {
                            for (k, n) in names.iter().enumerate() {
                                if *n != "_" && names[..k].contains(n) {
                                    diags.error_at(n, messages::bound_twice(&n.to_string()));
                                }
                            }
                        }
                        (names, true)
                    }
                    p => (plain(p, diags).map(|n| vec![n]), false),
                };
                let Some(names) = names else {
                    diags.error_at(pat, messages::DESTRUCTURING_LET);
                    pat_idents(pat, unbound);
                    continue;
                };
                let name = names[0].clone();
                match &local.init {
                    Some(init) => {
                        if let Some((else_token, diverge)) = &init.diverge {
                            diags.error_range(
                                (else_token.span, span_range(diverge).1),
                                messages::LET_ELSE,
                            );
                        }
                        // Checked even when the `let` itself is rejected, so its errors show too.
                        lets.push(Let {
                            names,
                            tuple,
                            pat_range: span_range(pat),
                            ty,
                            expr: (*init.expr).clone(),
                        });
                    }
                    None => {
                        diags.error_at(local, messages::let_without_value(&name));
                        unbound.extend(names.iter().map(|n| n.to_string()));
                    }
                }
            }
            Stmt::Expr(e, None) if last => tail = Some(e.clone()),
            Stmt::Expr(Expr::Return(r), _) if last && r.expr.is_some() => {
                diags.error_at(&r.return_token, messages::RETURN_STATEMENT);
                tail = r.expr.as_deref().cloned();
            }
            Stmt::Expr(e, Some(semi)) if last && is_plain_expression(e) => {
                diags.error_at(semi, messages::FINAL_SEMICOLON);
                tail = Some(e.clone());
            }
            Stmt::Expr(e, _) => diags.error_range(syntax_range(e), statement_error(e)),
            Stmt::Item(it) => diags.error_at(&it, messages::ITEM_IN_BODY),
            Stmt::Macro(m) => diags.error_at(&m, messages::macro_call(&code(&m.mac.path))),
        }
    }
    match tail {
        Some(t) => Some((lets, t)),
        None => {
            let last_let = match (stmts.last(), lets.last()) {
                (Some(Stmt::Local(_)), Some(l)) => Some(l.name() as &dyn std::fmt::Display),
                _ => None,
            };
            let range = match stmts.last() {
                Some(last) => span_range(last),
                None => {
                    let span = item.block.brace_token.span.join();
                    (span, span)
                }
            };
            diags.error_range(range, messages::no_final_expression(last_let));
            None
        }
    }
}

/// Whether an expression statement is one that would be the returned value
/// without its semicolon (not an assignment, a loop or other syntax with its own error).
fn is_plain_expression(e: &Expr) -> bool {
    match e {
        Expr::Binary(b) => !is_compound_assign(&b.op),
        Expr::Call(_)
        | Expr::MethodCall(_)
        | Expr::Path(_)
        | Expr::Paren(_)
        | Expr::Unary(_)
        | Expr::Tuple(_)
        | Expr::Lit(_)
        | Expr::Reference(_) => true,
        _ => false,
    }
}

/// The error for an expression used as a statement.
fn statement_error(e: &Expr) -> Message {
    match e {
        Expr::Assign(_) => messages::ASSIGNMENT,
        Expr::Binary(b) if is_compound_assign(&b.op) => messages::COMPOUND_ASSIGNMENT,
        Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => syntax_error(e),
        Expr::If(_) | Expr::Match(_) | Expr::Return(_) => syntax_error(e),
        _ => messages::EXPRESSION_STATEMENT,
    }
}

/// Whether a binary operator is a compound assignment (`+=`, `<<=`, ...).
pub fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// Where to point for syntax the language does not have: a loop, `if` or `match`
/// up to its header (not its whole body), anything else all of it.
pub fn syntax_range(e: &Expr) -> (Span, Span) {
    let header = |keyword: Span, head: &dyn ToTokens| (keyword, span_range(head).1);
    match e {
        Expr::ForLoop(f) => header(f.for_token.span, &f.expr),
        Expr::While(w) => header(w.while_token.span, &w.cond),
        Expr::Loop(l) => (l.loop_token.span, l.loop_token.span),
        Expr::If(i) => header(i.if_token.span, &i.cond),
        Expr::Match(m) => header(m.match_token.span, &m.expr),
        _ => span_range(e),
    }
}

/// The error for syntax the language does not have.
pub fn syntax_error(e: &Expr) -> Message {
    match e {
        Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => messages::LOOP,
        Expr::If(_) => messages::IF,
        Expr::Match(_) => messages::MATCH,
        Expr::Closure(_) => messages::CLOSURE,
        Expr::Return(_) => messages::EARLY_RETURN,
        Expr::Assign(_) => messages::ASSIGNMENT,
        Expr::Macro(m) => messages::macro_call(&code(&m.mac.path)),
        Expr::Block(_) | Expr::Unsafe(_) => messages::BLOCK,
        Expr::Index(_) => messages::INDEXING,
        Expr::Field(_) => messages::FIELD_ACCESS,
        Expr::Cast(_) => messages::CAST,
        Expr::Try(_) => messages::TRY_OPERATOR,
        Expr::Await(_) | Expr::Async(_) => messages::ASYNC_CODE,
        Expr::TryBlock(_) | Expr::Yield(_) => messages::OTHER_SYNTAX,
        Expr::Struct(_) | Expr::Array(_) | Expr::Repeat(_) => messages::LITERAL_KIND,
        _ => messages::UNSUPPORTED_EXPRESSION,
    }
}
