//! The drawing: the DOT output parsed back (every edge between declared
//! nodes, both colours), and the SVG well-formed with both colours.

use std::collections::HashSet;
use std::path::Path;

use backprop_cli::{SourceFile, graph};

fn zoo(rel: &str) -> SourceFile {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    let text = std::fs::read_to_string(root.join(rel)).expect("a zoo file");
    SourceFile::new(rel, &text)
}

/// A few items of different kinds: a product, a normalization, a recurrence, a loss.
const ITEMS: &[(&str, &str)] = &[
    ("backprop-core/src/layers/affine_layer.rs", "affine"),
    ("backprop-core/src/layers/normalization.rs", "batch_norm"),
    ("backprop-core/src/layers/recurrent.rs", "lstm_cell"),
    ("backprop-core/src/losses.rs", "multiclass_hinge"),
];

/// The parts of a DOT file this tool writes: node statements `ID [attrs];`
/// and edge statements `A -> B [attrs];`, attributes as `key="value"` or
/// `key=value`.
#[derive(Debug, Default)]
struct Dot {
    nodes: Vec<(String, Attrs)>,
    edges: Vec<(String, String, Attrs)>,
}

/// `key = value` pairs.
type Attrs = Vec<(String, String)>;

/// Splits `a="x, y", b=2` into pairs, honouring quotes and escapes.
fn attrs(text: &str) -> Attrs {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(
            chars.next(),
            Some('='),
            "an attribute without a value: {text}"
        );
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    // `\n` is a line break in a label; other escapes stand for themselves.
                    '\\' => match chars.next().expect("an escaped character") {
                        'n' => value.push('\n'),
                        c => value.push(c),
                    },
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value =
                std::iter::from_fn(|| chars.next_if(|c| *c != ',' && !c.is_whitespace())).collect();
        }
        out.push((key.trim().to_string(), value));
    }
    out
}

fn parse_dot(text: &str) -> Dot {
    let mut lines = text.lines();
    let head = lines.next().expect("a header");
    assert!(
        head.starts_with("digraph ") && head.ends_with('{'),
        "{head}"
    );
    let mut dot = Dot::default();
    let mut closed = false;
    for line in lines {
        let line = line.trim();
        assert!(!closed, "text after the closing brace: {line}");
        if line == "}" {
            closed = true;
            continue;
        }
        let stmt = line
            .strip_suffix(';')
            .unwrap_or_else(|| panic!("no `;`: {line}"));
        let (target, attr_text) = match stmt.split_once(" [") {
            Some((t, rest)) => (t, rest.strip_suffix(']').expect("a closing `]`")),
            None => (stmt, ""),
        };
        if matches!(target, "node" | "edge" | "graph") || target.contains('=') {
            continue;
        }
        match target.split_once(" -> ") {
            Some((a, b)) => dot
                .edges
                .push((a.trim().into(), b.trim().into(), attrs(attr_text))),
            None => dot.nodes.push((target.trim().into(), attrs(attr_text))),
        }
    }
    assert!(closed, "no closing brace");
    dot
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_dot_output_parses_back_with_both_colours() {
    for (rel, item) in ITEMS {
        let file = zoo(rel);
        let text = graph::graph_file(&file, Some(item), Path::new("out.dot")).expect("draws");
        let dot = parse_dot(&text);
        let declared: HashSet<&str> = dot.nodes.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            declared.len(),
            dot.nodes.len(),
            "{item}: a node declared twice"
        );
        assert!(!dot.edges.is_empty(), "{item}: no edges");
        for (a, b, _) in &dot.edges {
            assert!(
                declared.contains(a.as_str()),
                "{item}: edge from undeclared {a}"
            );
            assert!(
                declared.contains(b.as_str()),
                "{item}: edge to undeclared {b}"
            );
        }
        let colours: HashSet<&str> = dot
            .nodes
            .iter()
            .filter_map(|(_, a)| get(a, "color"))
            .chain(dot.edges.iter().filter_map(|(_, _, a)| get(a, "color")))
            .collect();
        assert!(
            colours.contains("black") && colours.contains("red"),
            "{item}: {colours:?}"
        );
        // Every node is labelled; saved values have a double border, and there are some.
        assert!(
            dot.nodes
                .iter()
                .all(|(_, a)| get(a, "label").is_some_and(|l| !l.is_empty()))
        );
        assert!(
            dot.nodes
                .iter()
                .any(|(_, a)| get(a, "peripheries") == Some("2")),
            "{item}: no saved value marked"
        );
        // The inputs are there by name.
        assert!(
            dot.nodes
                .iter()
                .any(|(_, a)| get(a, "label").is_some_and(|l| l.contains("\ninput"))),
            "{item}: no input"
        );
    }
}

/// Checks that tags are balanced (`<a>..</a>`, `<b/>`), attribute quotes
/// closed, and text free of a bare `<` or `&`; returns every tag's text.
fn check_xml(svg: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut tags = Vec::new();
    let mut rest = svg;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(!text.contains('>'), "a bare `>` in text: {text}");
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "a bare `&`: {entity}"
            );
        }
        rest = &rest[open + 1..];
        // The tag ends at the first `>` outside quotes.
        let mut quoted = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == '>' && !quoted
            })
            .map(|(i, _)| i)
            .expect("a tag closed by `>`");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == ':')
            .collect();
        tags.push(tag.to_string());
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(rest.trim().is_empty(), "text after the root: {rest}");
    assert_eq!(roots, 1, "one root element");
    tags
}

#[test]
fn the_svg_is_well_formed_with_both_colours() {
    for (rel, item) in ITEMS {
        let file = zoo(rel);
        let svg = graph::graph_file(&file, Some(item), Path::new("out.svg")).expect("draws");
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{item}"
        );
        let tags = check_xml(&svg);
        let stroke = |c: &str| tags.iter().any(|t| t.contains(&format!("stroke=\"{c}\"")));
        assert!(stroke("black") || stroke("#000"), "{item}: no black stroke");
        assert!(stroke("red"), "{item}: no red stroke");
        // Every edge has an arrowhead, and there are as many as the DOT has edges.
        let dot = graph::graph_file(&file, Some(item), Path::new("out.dot")).expect("draws");
        let lines = tags.iter().filter(|t| t.starts_with("polyline")).count();
        assert_eq!(lines, dot.matches(" -> ").count(), "{item}");
        assert!(
            tags.iter()
                .filter(|t| t.starts_with("polyline"))
                .all(|t| t.contains("marker-end"))
        );
    }
}

#[test]
fn the_graph_needs_svg_or_dot_and_one_item() {
    let file = zoo("backprop-core/src/losses.rs");
    let bad = graph::graph_file(&file, Some("mse"), Path::new("out.png")).expect_err("png");
    assert_eq!(bad.exit_code(), 2);
    let several = graph::graph_file(&file, None, Path::new("out.svg")).expect_err("several items");
    assert_eq!(several.exit_code(), 2);
    assert!(several.to_string().contains("--item"), "{several}");
}
