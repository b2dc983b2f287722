//! `backprop expand`: for each item, the forward as written, the memory plan
//! of what `_train` saves, and the generated backward, each statement under
//! the forward line it comes from (the text the backward's rustdoc shows).

use backprop_dsl::ir::{Graph, Ty, ValueId};

use crate::report::Failure;
use crate::shape::{self, Poly};
use crate::source::{Reviewed, SourceFile};

/// What `expand` prints besides the forward, the plan and the backward.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Also the IR as differentiation left it and after each pass.
    pub ir: bool,
}

/// The whole output of `expand` for the items of `file` (or the one named
/// `item`), and the lints' warnings (rendered like rustc's) for stderr.
pub fn expand_file(
    file: &SourceFile,
    item: Option<&str>,
    options: Options,
) -> Result<(String, String), Failure> {
    let mut out = String::new();
    let mut warnings = String::new();
    for (k, it) in file.select(item)?.iter().enumerate() {
        let r = Reviewed::compile(file, it)?;
        if k > 0 {
            out.push('\n');
        }
        out.push_str(&expand_item(file, &r, options));
        warnings.push_str(&r.warnings(file));
    }
    Ok((out, warnings))
}

/// The output of `expand` for one compiled item.
pub fn expand_item(file: &SourceFile, r: &Reviewed, options: Options) -> String {
    let name = &r.item.name;
    let mut out = format!("==== fn {name} ====\n\n");
    out.push_str(&format!(
        "-- forward (lines {}-{}) --\n",
        r.item.first_line, r.item.last_line
    ));
    let width = r.item.last_line.to_string().len();
    for (k, line) in file
        .lines(r.item.first_line, r.item.last_line)
        .lines()
        .enumerate()
    {
        let no = r.item.first_line + k;
        out.push_str(format!("{no:>width$} | {line}").trim_end());
        out.push('\n');
    }
    let emitted =
        backprop_dsl::emit::emit(&r.compiled.graph, &r.compiled.options, &r.compiled.lints);
    out.push('\n');
    out.push_str(&memory_plan(&r.compiled.graph, &emitted.tokens));
    out.push_str(&format!("\n-- backward: {name}_backward --\n"));
    out.push_str(&emitted.backward_text);
    if !emitted.backward_text.ends_with('\n') {
        out.push('\n');
    }
    if options.ir {
        for (pass, doc, ir) in &r.steps {
            out.push_str(&format!("\n-- IR after {pass}: {doc} --\n{ir}"));
        }
    }
    out
}

/// The fields of the generated `Saved` struct, in order (the emitter's names
/// for the saved values), without the float-type marker and the hidden flag of
/// a layer's lent parameters (`__params_lent`): each name, and whether the
/// field is a copy shared between calls given the same values (`SavedArray`).
fn saved_fields(tokens: &proc_macro2::TokenStream) -> Option<Vec<(String, bool)>> {
    let file: syn::File = syn::parse2(tokens.clone()).ok()?;
    file.items.iter().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident.to_string().ends_with("Saved") => Some(
            s.fields
                .iter()
                .filter_map(|f| {
                    let ty = quote::ToTokens::to_token_stream(&f.ty).to_string();
                    let name = f.ident.as_ref()?.to_string();
                    (!ty.contains("PhantomData") && !name.starts_with("__"))
                        .then(|| (name, ty.contains("SavedArray")))
                })
                .collect(),
        ),
        _ => None,
    })
}

/// The table of saved values: name, what it is, its shape, its bytes per
/// sample and fixed bytes, and the totals.
pub fn memory_plan(g: &Graph, emitted: &proc_macro2::TokenStream) -> String {
    let saved = shape::saved_values(g);
    let known = shape::analyse(g);
    let batch = shape::batch_dim(g);
    let fields = saved_fields(emitted).filter(|f| f.len() == saved.len());
    let name = |k: usize, v: ValueId| match &fields {
        Some(f) => f[k].0.clone(),
        None => g.nodes[v].name.clone().unwrap_or_else(|| format!("%{v}")),
    };
    let batch_text = batch.as_deref().unwrap_or("(none)");
    let mut out = format!(
        "-- saved by _train: the memory plan (f32; per sample = per unit of {batch_text}) --\n"
    );
    if saved.is_empty() {
        out.push_str("nothing: the backward reads no forward value\n");
        return out;
    }
    let mut rows: Vec<[String; 5]> = vec![[
        "field".into(),
        "holds".into(),
        "shape".into(),
        "bytes per sample".into(),
        "fixed bytes".into(),
    ]];
    let (mut per_sample, mut fixed) = (Poly::default(), Poly::default());
    let mut unknown = false;
    for (k, &v) in saved.iter().enumerate() {
        let n = &g.nodes[v];
        let ty = n.ty;
        let shape = &known[v].shape;
        let show = |b: &Poly| {
            if b.is_zero() {
                "-".to_string()
            } else {
                b.to_string()
            }
        };
        let (ps, fx) = match shape::cost(ty, shape, batch.as_deref()) {
            Some((ps, fx)) => {
                per_sample = per_sample.add(&ps);
                fixed = fixed.add(&fx);
                (show(&ps), show(&fx))
            }
            None => {
                unknown = true;
                ("?".to_string(), "?".to_string())
            }
        };
        let holds = match (ty, &known[v].size) {
            (Ty::Shape(_), _) => format!("the shape of `{}`", one_line(&n.text)),
            (Ty::Usize, Some(size)) if n.text.is_empty() => format!("the size `{size}`"),
            _ => format!("`{}`", one_line(&n.text)),
        };
        rows.push([name(k, v), holds, shape::show(shape), ps, fx]);
    }
    let unknown = if unknown { " + ?" } else { "" };
    rows.push([
        "total".into(),
        String::new(),
        String::new(),
        format!("{per_sample}{unknown}"),
        format!("{fixed}{unknown}"),
    ]);
    out.push_str(&table(&rows));
    let shared: Vec<String> = fields
        .iter()
        .flatten()
        .filter(|(_, shared)| *shared)
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    if !shared.is_empty() {
        out.push_str(&format!(
            "copies shared by the `Saved`s of calls given the same values (`ops::save`; a loop over time steps keeps one of the weights and of each state): {}\n",
            shared.join(", ")
        ));
    }
    if fields.is_none() {
        out.push_str("(the generated `Saved` struct did not match: names are the IR's)\n");
    }
    out
}

/// `text` on one line, shortened to 40 characters.
pub fn one_line(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 40 {
        let head: String = t.chars().take(37).collect();
        format!("{head}...")
    } else {
        t
    }
}

/// Columns padded to their widest cell.
fn table(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (k, (w, cell)) in widths.iter().zip(row).enumerate() {
            if k > 0 {
                line.push_str("  ");
            }
            line.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
