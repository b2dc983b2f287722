//! `backprop graph`: the computational graph of an item, forward nodes in
//! black and backward nodes in red, as DOT text or as an SVG drawn here.
//!
//! The graph is the IR after every pass but fusion (one node per op).
//! Constants, sizes and shapes are left out (their users' labels show them);
//! every other node is a box: inputs by name, forward ops by their source
//! text, backward ops by their kernel and, under it, the gradient they hold
//! (`dz`). A value `_train` saves for the backward has a double border. Edges
//! into a backward node are red, dashed when they read a saved forward value.
//!
//! The layout is layered: each node on the row of its longest path from an
//! input, edges that skip rows bent through a point on each row between,
//! the nodes of a row ordered by the barycenter of their neighbours (a few
//! sweeps down and up), each row centred.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use backprop_dsl::ir::{GradOp, Graph, Op, ScalarOp, ValueId};

use crate::expand::one_line;
use crate::math::Printer;
use crate::report::Failure;
use crate::shape;
use crate::source::{Reviewed, SourceFile};

/// The colour of forward nodes and edges.
pub const FORWARD: &str = "black";
/// The colour of backward nodes and edges.
pub const BACKWARD: &str = "red";

/// One box of the drawing.
#[derive(Clone, Debug)]
pub struct Node {
    /// The IR node it stands for.
    pub id: ValueId,
    /// The first line: a name, source text or kernel.
    pub label: String,
    /// The second line, if any: the value's name, or the gradient it holds.
    pub sub: Option<String>,
    /// A node of the backward pass.
    pub backward: bool,
    /// A forward value `_train` saves for the backward.
    pub saved: bool,
}

/// The graph to draw: boxes, and edges between them (indices into `nodes`).
#[derive(Clone, Debug)]
pub struct Diagram {
    /// The function's name.
    pub title: String,
    /// The boxes, in graph order.
    pub nodes: Vec<Node>,
    /// `(from, to)`: `to` reads `from`.
    pub edges: Vec<(usize, usize)>,
}

/// The drawing of `item` of `file`, as SVG or DOT by `out`'s extension.
pub fn graph_file(file: &SourceFile, item: Option<&str>, out: &Path) -> Result<String, Failure> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !matches!(ext, "svg" | "dot") {
        return Err(Failure::Usage(format!(
            "`{}`: the output must end in `.svg` or `.dot`",
            out.display()
        )));
    }
    let it = file.select_one(item)?;
    let r = Reviewed::compile(file, &it)?;
    let d = diagram(&r.unfused, &it.name);
    Ok(if ext == "svg" { to_svg(&d) } else { to_dot(&d) })
}

/// Whether a node is drawn: everything but constants, sizes and shapes.
fn drawn(op: &Op) -> bool {
    !matches!(
        op,
        Op::Const(_) | Op::UsizeConst(_) | Op::LenOf(_) | Op::UsizeArith(_) | Op::ShapeOf
    )
}

/// The boxes and edges of `g`.
pub fn diagram(g: &Graph, title: &str) -> Diagram {
    let saved: HashSet<ValueId> = shape::saved_values(g).into_iter().collect();
    let math = Printer::new(g);
    let mut index = vec![None; g.nodes.len()];
    let mut nodes = Vec::new();
    // The gradient each backward node holds, by the name math gives it.
    let mut holds: Vec<Option<String>> = vec![None; g.nodes.len()];
    for (input, grad) in g.inputs.iter().zip(&g.grads) {
        if let Some(v) = grad {
            holds[*v].get_or_insert_with(|| format!("d{}", input.name));
        }
    }
    for &(fwd, grad) in &g.grad_of {
        if let Some(name) = &g.nodes[fwd].name {
            holds[grad].get_or_insert_with(|| format!("d{name}"));
        }
    }
    for (v, n) in g.nodes.iter().enumerate() {
        if !drawn(&n.op) {
            continue;
        }
        let (label, sub) = if n.backward {
            let label = match &n.op {
                Op::Grad(GradOp::Seed(_)) => math.expression(v),
                Op::Grad(GradOp::SumTo) => "sum_to".to_string(),
                Op::Grad(GradOp::MaskBy(_) | GradOp::MaskGrad(_)) => "mask".to_string(),
                Op::Grad(GradOp::Zeros) => "zeros".to_string(),
                Op::Grad(GradOp::ConcatGrad(..)) => "split".to_string(),
                _ => op_label(g, v),
            };
            (label, holds[v].clone())
        } else {
            match &n.op {
                Op::Input(_) => (
                    n.name.clone().unwrap_or_default(),
                    Some("input".to_string()),
                ),
                _ => (one_line(&n.text), n.name.clone()),
            }
        };
        let sub = match (saved.contains(&v), sub) {
            (true, Some(s)) => Some(format!("{s} (saved)")),
            (true, None) => Some("(saved)".to_string()),
            (false, s) => s,
        };
        index[v] = Some(nodes.len());
        nodes.push(Node {
            id: v,
            label,
            sub,
            backward: n.backward,
            saved: saved.contains(&v),
        });
    }
    let mut edges = Vec::new();
    for (v, n) in g.nodes.iter().enumerate() {
        let Some(to) = index[v] else { continue };
        let mut seen = HashSet::new();
        for &a in &n.args {
            if let Some(from) = index[a]
                && seen.insert(from)
            {
                edges.push((from, to));
            }
        }
    }
    Diagram {
        title: title.to_string(),
        nodes,
        edges,
    }
}

/// A backward op's label: its sign (`*`, `- 1`), or its kernel's name.
fn op_label(g: &Graph, v: ValueId) -> String {
    let n = &g.nodes[v];
    let constant = |i: usize| match n.args.get(i).map(|&a| &g.nodes[a].op) {
        Some(Op::Const(c)) => crate::math::number(*c),
        _ => "c".to_string(),
    };
    match &n.op {
        Op::Binary(op) => shape::bin_sign(*op).map_or_else(|| n.op.name(), str::to_string),
        Op::WithScalar(op) => {
            let c = constant(1);
            match op {
                ScalarOp::Add => format!("+ {c}"),
                ScalarOp::Sub => format!("- {c}"),
                ScalarOp::RSub => format!("{c} -"),
                ScalarOp::Mul => format!("* {c}"),
                ScalarOp::Div => format!("/ {c}"),
                ScalarOp::RDiv => format!("{c} /"),
            }
        }
        Op::Prim(_, attr) | Op::Grad(GradOp::PrimGrad(_, _, attr)) => match attr.axis() {
            Some(k) => format!("{} (axis {k})", n.op.name()),
            None => n.op.name(),
        },
        op => op.name(),
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The diagram as Graphviz DOT: `n3 [label="...", color="red"]`, `n1 -> n3`.
pub fn to_dot(d: &Diagram) -> String {
    let mut out = format!("digraph \"{}\" {{\n", dot_escape(&d.title));
    out.push_str("  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (k, n) in d.nodes.iter().enumerate() {
        let colour = if n.backward { BACKWARD } else { FORWARD };
        let label = match &n.sub {
            Some(s) => format!("{}\\n{}", dot_escape(&n.label), dot_escape(s)),
            None => dot_escape(&n.label),
        };
        let periph = if n.saved { ", peripheries=2" } else { "" };
        let _ = writeln!(
            out,
            "  n{k} [label=\"{label}\", color=\"{colour}\", fontcolor=\"{colour}\"{periph}];"
        );
    }
    for &(a, b) in &d.edges {
        let (colour, style) = edge_style(d, a, b);
        let style = if style { ", style=dashed" } else { "" };
        let _ = writeln!(out, "  n{a} -> n{b} [color=\"{colour}\"{style}];");
    }
    out.push_str("}\n");
    out
}

/// An edge's colour, and whether it is dashed (the backward reading a saved value).
fn edge_style(d: &Diagram, a: usize, b: usize) -> (&'static str, bool) {
    if d.nodes[b].backward {
        (BACKWARD, !d.nodes[a].backward)
    } else {
        (FORWARD, false)
    }
}

/// An element of a row: a box, or the point where an edge crosses the row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Box(usize),
    Bend(usize),
}

const CHAR_W: f64 = 7.2;
const BOX_H: f64 = 40.0;
const ROW_GAP: f64 = 46.0;
const COL_GAP: f64 = 22.0;
const BEND_W: f64 = 12.0;
const MARGIN: f64 = 20.0;
const TOP: f64 = 56.0;
/// The line after the function's name at the top of the drawing.
const TITLE: &str = ": forward in black, backward in red; double border: saved for the backward";

fn box_width(n: &Node) -> f64 {
    let chars = n
        .label
        .chars()
        .count()
        .max(n.sub.as_ref().map_or(0, |s| s.chars().count()));
    chars as f64 * CHAR_W + 20.0
}

/// Where everything goes: each box's centre, and each edge's points.
struct Layout {
    centre: Vec<(f64, f64)>,
    paths: Vec<Vec<(f64, f64)>>,
    width: f64,
    height: f64,
}

fn layout(d: &Diagram) -> Layout {
    let n = d.nodes.len();
    // Rows: the longest path from a node without arguments (edges go from
    // earlier nodes to later ones, so one pass in order suffices).
    // The backward starts on the row after the forward's last.
    let mut row = vec![0usize; n];
    let mut edges = d.edges.clone();
    edges.sort_by_key(|&(_, b)| b);
    let mut into: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &edges {
        into[b].push(a);
    }
    let mut forward_rows = 0;
    for k in 0..n {
        let floor = if d.nodes[k].backward { forward_rows } else { 0 };
        row[k] = into[k]
            .iter()
            .map(|&a| row[a] + 1)
            .max()
            .unwrap_or(0)
            .max(floor);
        if !d.nodes[k].backward {
            forward_rows = forward_rows.max(row[k] + 1);
        }
    }
    let rows = row.iter().copied().max().map_or(0, |r| r + 1);
    let mut slots: Vec<Vec<Slot>> = vec![Vec::new(); rows];
    for (k, &r) in row.iter().enumerate() {
        slots[r].push(Slot::Box(k));
    }
    // Each edge as the chain of slots it passes, one per row.
    let mut chains: Vec<Vec<(usize, Slot)>> = Vec::with_capacity(d.edges.len());
    for (e, &(a, b)) in d.edges.iter().enumerate() {
        let mut chain = vec![(row[a], Slot::Box(a))];
        for (r, s) in slots.iter_mut().enumerate().take(row[b]).skip(row[a] + 1) {
            s.push(Slot::Bend(e));
            chain.push((r, Slot::Bend(e)));
        }
        chain.push((row[b], Slot::Box(b)));
        chains.push(chain);
    }
    // Neighbours of each slot in the rows above and below.
    let key = |s: Slot| match s {
        Slot::Box(k) => k,
        Slot::Bend(e) => n + e,
    };
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); n + d.edges.len()];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); n + d.edges.len()];
    for chain in &chains {
        for w in chain.windows(2) {
            down[key(w[0].1)].push(key(w[1].1));
            up[key(w[1].1)].push(key(w[0].1));
        }
    }
    let mut pos = vec![0.0f64; n + d.edges.len()];
    let place = |slots: &Vec<Vec<Slot>>, pos: &mut Vec<f64>| {
        for s in slots {
            for (i, &slot) in s.iter().enumerate() {
                pos[key(slot)] = i as f64;
            }
        }
    };
    place(&slots, &mut pos);
    for sweep in 0..8 {
        let order: Vec<usize> = if sweep % 2 == 0 {
            (1..rows).collect()
        } else {
            (0..rows.saturating_sub(1)).rev().collect()
        };
        for r in order {
            let neighbours = if sweep % 2 == 0 { &up } else { &down };
            let mut keyed: Vec<(f64, Slot)> = slots[r]
                .iter()
                .map(|&s| {
                    let ns = &neighbours[key(s)];
                    let bary = if ns.is_empty() {
                        pos[key(s)]
                    } else {
                        ns.iter().map(|&m| pos[m]).sum::<f64>() / ns.len() as f64
                    };
                    (bary, s)
                })
                .collect();
            keyed.sort_by(|x, y| x.0.total_cmp(&y.0));
            slots[r] = keyed.into_iter().map(|(_, s)| s).collect();
            for (i, &s) in slots[r].iter().enumerate() {
                pos[key(s)] = i as f64;
            }
        }
    }
    // Coordinates: rows top to bottom, each row centred.
    let slot_w = |s: Slot| match s {
        Slot::Box(k) => box_width(&d.nodes[k]),
        Slot::Bend(_) => BEND_W,
    };
    let row_w: Vec<f64> = slots
        .iter()
        .map(|s| {
            s.iter().map(|&x| slot_w(x)).sum::<f64>() + COL_GAP * s.len().saturating_sub(1) as f64
        })
        .collect();
    let title_w = (d.title.chars().count() + TITLE.len()) as f64 * CHAR_W * 14.0 / 12.0;
    let width = row_w.iter().copied().fold(title_w, f64::max) + 2.0 * MARGIN;
    let mut xy = vec![(0.0, 0.0); n + d.edges.len()];
    for (r, s) in slots.iter().enumerate() {
        let mut x = (width - row_w[r]) / 2.0;
        let y = TOP + r as f64 * (BOX_H + ROW_GAP) + BOX_H / 2.0;
        for &slot in s {
            let w = slot_w(slot);
            xy[key(slot)] = (x + w / 2.0, y);
            x += w + COL_GAP;
        }
    }
    let paths = chains
        .iter()
        .map(|chain| {
            let last = chain.len() - 1;
            chain
                .iter()
                .enumerate()
                .map(|(i, &(_, s))| {
                    let (x, y) = xy[key(s)];
                    match i {
                        0 => (x, y + BOX_H / 2.0),
                        i if i == last => (x, y - BOX_H / 2.0 - 2.0),
                        _ => (x, y),
                    }
                })
                .collect()
        })
        .collect();
    Layout {
        centre: xy[..n].to_vec(),
        paths,
        width,
        height: TOP + rows as f64 * (BOX_H + ROW_GAP) + MARGIN,
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The diagram drawn as an SVG document.
pub fn to_svg(d: &Diagram) -> String {
    let l = layout(d);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"monospace\" font-size=\"12\">",
        w = l.width,
        h = l.height
    );
    out.push_str("<defs>\n");
    for colour in [FORWARD, BACKWARD] {
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{colour}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"{colour}\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{:.0}\" height=\"{:.0}\" fill=\"white\"/>",
        l.width, l.height
    );
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"22\" font-size=\"14\" fill=\"black\">{}{TITLE}</text>",
        xml_escape(&d.title)
    );
    for (e, &(a, b)) in d.edges.iter().enumerate() {
        let (colour, dashed) = edge_style(d, a, b);
        let points: Vec<String> = l.paths[e]
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let dash = if dashed {
            " stroke-dasharray=\"5,3\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\"{dash} marker-end=\"url(#arrow-{colour})\"/>",
            points.join(" ")
        );
    }
    for (k, node) in d.nodes.iter().enumerate() {
        let colour = if node.backward { BACKWARD } else { FORWARD };
        let (cx, cy) = l.centre[k];
        let w = box_width(node);
        let (x, y) = (cx - w / 2.0, cy - BOX_H / 2.0);
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BOX_H}\" rx=\"4\" fill=\"white\" stroke=\"{colour}\" stroke-width=\"1.2\"/>"
        );
        if node.saved {
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" rx=\"3\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1\"/>",
                x + 3.0,
                y + 3.0,
                w - 6.0,
                BOX_H - 6.0
            );
        }
        let (label_y, sub_y) = match node.sub {
            Some(_) => (cy - 3.0, cy + 12.0),
            None => (cy + 4.0, cy),
        };
        let _ = writeln!(
            out,
            "<text x=\"{cx:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>",
            xml_escape(&node.label)
        );
        if let Some(sub) = &node.sub {
            let _ = writeln!(
                out,
                "<text x=\"{cx:.1}\" y=\"{sub_y:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{colour}\">{}</text>",
                xml_escape(sub)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
