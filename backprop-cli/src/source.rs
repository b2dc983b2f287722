//! A source file, its `#[differentiable]` items, and each item compiled the
//! way the macro compiles it, with the IR kept after every pass.

use backprop_dsl::ir::Graph;
use backprop_dsl::opt::PIPELINE;
use backprop_dsl::{Compiled, Diagnostic};
use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::report::{self, Failure};

/// A Rust source file: its path as given (for messages) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path, as messages show it.
    pub path: String,
    /// The text.
    pub text: String,
}

impl SourceFile {
    /// Reads a file; a missing or unreadable file is a usage error.
    pub fn read(path: &str) -> Result<Self, Failure> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read `{path}`: {e}")))?;
        Ok(SourceFile {
            path: path.to_string(),
            text,
        })
    }

    /// A file from text (for tests).
    pub fn new(path: &str, text: &str) -> Self {
        SourceFile {
            path: path.to_string(),
            text: text.to_string(),
        }
    }

    /// The `#[differentiable]` functions of the file, in source order, those of
    /// inline modules included. A syntax error is an error in the file.
    pub fn items(&self) -> Result<Vec<Item>, Failure> {
        let file = syn::parse_file(&self.text)
            .map_err(|e| Failure::Source(report::syntax_error(&self.path, &self.text, &e)))?;
        let mut out = Vec::new();
        collect(file.items, &mut out);
        Ok(out)
    }

    /// The items named `name`, or all of them when `name` is `None`. An
    /// unknown name, or a file without any item, is a usage error.
    pub fn select(&self, name: Option<&str>) -> Result<Vec<Item>, Failure> {
        let items = self.items()?;
        if items.is_empty() {
            return Err(Failure::Usage(format!(
                "`{}` has no `#[differentiable]` function",
                self.path
            )));
        }
        let Some(name) = name else {
            return Ok(items);
        };
        let names: Vec<String> = items.iter().map(|i| format!("`{}`", i.name)).collect();
        let chosen: Vec<Item> = items.into_iter().filter(|i| i.name == name).collect();
        if chosen.is_empty() {
            return Err(Failure::Usage(format!(
                "no `#[differentiable]` function `{name}` in `{}` (it has {})",
                self.path,
                names.join(", ")
            )));
        }
        Ok(chosen)
    }

    /// The one item named `name`, or the only item of the file when `name` is
    /// `None`; several items and no name is a usage error.
    pub fn select_one(&self, name: Option<&str>) -> Result<Item, Failure> {
        let mut items = self.select(name)?;
        if items.len() > 1 {
            let names: Vec<String> = items.iter().map(|i| format!("`{}`", i.name)).collect();
            return Err(Failure::Usage(format!(
                "`{}` has several `#[differentiable]` functions ({}): choose one with `--item NAME`",
                self.path,
                names.join(", ")
            )));
        }
        Ok(items.remove(0))
    }

    /// The lines `first..=last` (1-based) of the file.
    pub fn lines(&self, first: usize, last: usize) -> String {
        let mut out = String::new();
        for line in self
            .text
            .lines()
            .skip(first.saturating_sub(1))
            .take(last + 1 - first.min(last + 1))
        {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

fn collect(items: Vec<syn::Item>, out: &mut Vec<Item>) {
    for item in items {
        match item {
            syn::Item::Fn(mut f) => {
                let Some(pos) = f
                    .attrs
                    .iter()
                    .position(backprop_dsl::parse::is_differentiable)
                else {
                    continue;
                };
                let attr = f.attrs.remove(pos);
                let first_line = attr.pound_token.span.start().line;
                let args = match attr.meta {
                    syn::Meta::List(list) => list.tokens,
                    _ => TokenStream::new(),
                };
                let last_line = f.block.brace_token.span.close().end().line;
                out.push(Item {
                    name: f.sig.ident.to_string(),
                    attr: args,
                    tokens: f.to_token_stream(),
                    first_line,
                    last_line,
                });
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = m.content {
                    collect(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// One `#[differentiable]` function of a file.
#[derive(Clone, Debug)]
pub struct Item {
    /// The function's name.
    pub name: String,
    /// The attribute's arguments (`layer = Dense`).
    pub attr: TokenStream,
    /// The function without the attribute, as the macro receives it.
    pub tokens: TokenStream,
    /// The line of the attribute.
    pub first_line: usize,
    /// The line of the closing brace.
    pub last_line: usize,
}

/// An item compiled: what the macro generates, and the IR along the way.
pub struct Reviewed {
    /// The item.
    pub item: Item,
    /// The item as `backprop_dsl::compile` compiles it: the graph after the
    /// whole pipeline, which emission reads, and the lints' findings.
    pub compiled: Compiled,
    /// The graph after every pass but fusion: one node per op, which the math
    /// view and the drawing read (fused loops would hide the ops in a body).
    pub unfused: Graph,
    /// The IR as differentiation left it and after each pass of
    /// [`PIPELINE`]: `(pass name, what it does, printout)`.
    pub steps: Vec<(&'static str, &'static str, String)>,
}

impl Reviewed {
    /// Compiles an item; errors (and lints the attribute denies) are rendered
    /// like rustc's as an error in the file.
    pub fn compile(file: &SourceFile, item: &Item) -> Result<Self, Failure> {
        backprop_dsl::on_big_stack(|| Self::compile_inner(file, item))
    }

    fn compile_inner(file: &SourceFile, item: &Item) -> Result<Self, Failure> {
        let errors = |diags: &[Diagnostic]| {
            let mut text: String = diags
                .iter()
                .map(|d| report::diagnostic(&file.path, &file.text, d))
                .collect();
            let n = diags.iter().filter(|d| d.is_error()).count();
            text.push_str(&report::aborting(n));
            Failure::Source(text)
        };
        let compiled = backprop_dsl::compile(item.attr.clone(), item.tokens.clone())
            .map_err(|d| errors(&d))?;
        if compiled.lints.iter().any(Diagnostic::is_error) {
            return Err(errors(&compiled.lints));
        }
        let start = backprop_dsl::compile_unoptimized(item.attr.clone(), item.tokens.clone())
            .map_err(|d| errors(&d))?;
        let mut graph = start.graph;
        let mut steps = vec![(
            "differentiation",
            "the forward as checked, and the backward the derivative rules give",
            graph.to_string(),
        )];
        let mut unfused = graph.clone();
        for pass in PIPELINE {
            (pass.run)(&mut graph);
            if let Err(e) = graph.verify() {
                return Err(Failure::Source(format!(
                    "error: internal compiler error: the IR of `{}` does not verify after the pass `{}`: {e}\n",
                    item.name, pass.name
                )));
            }
            steps.push((pass.name, pass.doc, graph.to_string()));
            if pass.name != "fuse" {
                unfused = graph.clone();
            }
        }
        Ok(Reviewed {
            item: item.clone(),
            compiled,
            unfused,
            steps,
        })
    }

    /// The lints' warnings, rendered like rustc's (empty when there are none).
    pub fn warnings(&self, file: &SourceFile) -> String {
        self.compiled
            .lints
            .iter()
            .filter(|d| !d.is_error())
            .map(|d| report::diagnostic(&file.path, &file.text, d))
            .collect()
    }
}
