//! Derivative rules checked against central finite differences in f64, through
//! the interpreter (the same kernels generated code calls): every elementwise op
//! of the table, hand-derived cases for the structural ops, and random
//! expressions from a small grammar.

use backprop_dsl::interp::{self, Value};
use backprop_spec::ELEMENTWISE;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

/// A tiny deterministic generator, so the tests need no extra dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn array(&mut self, shape: &[usize], lo: f64, hi: f64) -> ArrayD<f64> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || lo + (hi - lo) * self.next())
    }
}

fn compile(src: &str) -> backprop_dsl::Graph {
    let tokens: proc_macro2::TokenStream = src.parse().expect("valid tokens");
    match backprop_dsl::compile(proc_macro2::TokenStream::new(), tokens) {
        Ok(c) => {
            c.graph.verify().expect("a well-formed graph");
            c.graph
        }
        Err(e) => panic!(
            "{src}\ndoes not compile: {:?}",
            e.iter().map(|d| d.text()).collect::<Vec<_>>()
        ),
    }
}

/// Largest relative error between the derived gradient and central differences
/// of `L = sum(out * r)`, over every element of every float input taking a gradient.
fn max_gradient_error(src: &str, inputs: &[Value]) -> f64 {
    max_gradient_error_with_floor(src, inputs, 1e-8)
}

/// As [`max_gradient_error`], with `floor` in the denominator `max(floor, |a| + |n|)`.
fn max_gradient_error_with_floor(src: &str, inputs: &[Value], floor: f64) -> f64 {
    let g = compile(src);
    let mut rng = Lcg(7);
    let out = interp::run(&g, inputs, None).unwrap_or_else(|e| panic!("{src}: {e}"));
    let seeds: Vec<ArrayD<f64>> = out
        .outputs
        .iter()
        .map(|o| rng.array(o.shape(), -1.0, 1.0))
        .collect();
    let grads = interp::run(&g, inputs, Some(&seeds))
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .grads;
    let forward = |inputs: &[Value]| interp::run(&g, inputs, None).expect("forward").outputs;
    let eps = 1e-4;
    let mut worst: f64 = 0.0;
    for (i, grad) in grads.iter().enumerate() {
        let Some(grad) = grad else { continue };
        let Value::Float(x) = &inputs[i] else {
            panic!("gradient for a non-float input")
        };
        assert_eq!(
            grad.shape(),
            x.shape(),
            "{src}: gradient of input {i} has the wrong shape"
        );
        for (k, &a) in grad.iter().enumerate() {
            let mut work = inputs.to_vec();
            let mut bump = |delta: f64| {
                let mut xp = x.clone();
                let v = xp.iter_mut().nth(k).expect("in range");
                *v += delta;
                work[i] = Value::Float(xp);
                forward(&work)
            };
            // Differences first: outputs the bump did not change cancel exactly, so the
            // size of the loss does not limit the precision; the five-point stencil
            // allows a step large enough to keep rounding near 1e-12.
            let mut difference = |h: f64| {
                let (plus, minus) = (bump(h), bump(-h));
                plus.iter()
                    .zip(&minus)
                    .zip(&seeds)
                    .map(|((p, m), r)| ((p - m) * r).sum())
                    .sum::<f64>()
            };
            let numeric = (8.0 * difference(eps) - difference(2.0 * eps)) / (12.0 * eps);
            let err = (a - numeric).abs() / (a.abs() + numeric.abs()).max(floor);
            assert!(!err.is_nan(), "{src}: NaN gradient");
            worst = worst.max(err);
        }
    }
    worst
}

fn assert_gradients(src: &str, inputs: &[Value]) {
    let err = max_gradient_error(src, inputs);
    assert!(err < 1e-7, "{src}\nmax relative error {err:e}");
}

fn f(a: ArrayD<f64>) -> Value {
    Value::Float(a)
}

#[test]
fn every_elementwise_op_with_a_derivative() {
    let mut rng = Lcg(1);
    let mut checked = 0;
    for op in ELEMENTWISE.iter().filter(|op| op.uses.is_some()) {
        let params: Vec<String> = op.test_params.iter().map(|p| format!("{p:?}")).collect();
        let args = std::iter::once("x".to_string())
            .chain(params)
            .collect::<Vec<_>>()
            .join(", ");
        let src = format!(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {}({args}) }}",
            op.name
        );
        // Inputs from the op's domain, kept at least 0.05 away from its kinks.
        let kinks = (op.kinks)(op.test_params);
        let mut x = rng.array(&[3, 4], op.domain.0, op.domain.1);
        x.mapv_inplace(|v| match kinks.iter().find(|&&k| (v - k).abs() < 0.05) {
            Some(&k) => k + 0.05f64.copysign(v - k),
            None => v,
        });
        let err = max_gradient_error(&src, &[f(x)]);
        assert!(err < op.tolerance, "{src}\nmax relative error {err:e}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} ops checked");
}

#[test]
fn every_elementwise_forward_matches_its_reference_formula() {
    let mut rng = Lcg(2);
    for op in ELEMENTWISE {
        let x = rng.array(&[50], op.domain.0, op.domain.1);
        let y = backprop_kernels::dynamic::elementwise(op.name, &x, op.test_params).unwrap();
        for (&xv, &yv) in x.iter().zip(&y) {
            let r = (op.reference)(xv, op.test_params);
            assert!(
                (yv - r).abs() <= 1e-12 * (1.0 + r.abs()),
                "{}({xv}) = {yv}, reference {r}",
                op.name
            );
        }
    }
}

#[test]
fn broadcasting_forms_sum_the_gradient_back() {
    let mut rng = Lcg(3);
    let x = rng.array(&[3, 4], -1.0, 1.0);
    let row = rng.array(&[4], -1.0, 1.0);
    let col = rng.array(&[3, 1], -1.0, 1.0);
    let s = rng.array(&[], 0.5, 1.5);
    // d(x + b)/db = sum over rows of g
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> { x + &b }",
        &[f(x.clone()), f(row.clone())],
    );
    // column vector: summed over columns, kept as [n, 1]
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>, c: ArrayView2<T>) -> Array2<T> { x * &c - c }",
        &[f(x.clone()), f(col.clone())],
    );
    // both operands broadcast: [3, 1] and [4] give [3, 4]
    assert_gradients(
        "fn f<T: Real>(c: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> { c / (b.square() + 1.0) }",
        &[f(col), f(row)],
    );
    // a scalar input taking a gradient, and literals on both sides
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>, s: T) -> Array2<T> { 2.0 - x * s / 3.0 + 1.0 / (x.square() + s) }",
        &[f(x), f(s)],
    );
}

#[test]
fn products_in_all_their_forms() {
    let mut rng = Lcg(4);
    let a = rng.array(&[3, 4], -1.0, 1.0);
    let b = rng.array(&[4, 2], -1.0, 1.0);
    let v = rng.array(&[4], -1.0, 1.0);
    let u = rng.array(&[3], -1.0, 1.0);
    // C = A B: dA = G B^T, dB = A^T G
    assert_gradients(
        "fn f<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> { a.dot(&b) }",
        &[f(a.clone()), f(b)],
    );
    // c = A v: dA = g v^T, dv = A^T g
    assert_gradients(
        "fn f<T: Real>(a: ArrayView2<T>, v: ArrayView1<T>) -> Array1<T> { a.dot(&v) }",
        &[f(a.clone()), f(v.clone())],
    );
    // c = u A: du = A g, dA = u g^T
    assert_gradients(
        "fn f<T: Real>(u: ArrayView1<T>, a: ArrayView2<T>) -> Array1<T> { u.dot(&a) }",
        &[f(u), f(a.clone())],
    );
    // s = v . v: ds/dv = 2 g v (fan-out of one value into both operands)
    assert_gradients(
        "fn f<T: Real>(v: ArrayView1<T>) -> T { v.dot(&v) }",
        &[f(v)],
    );
    // the Gram matrix x x^T: the gradient from both uses accumulates
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { x.dot(&x.t()) }",
        &[f(a)],
    );
}

#[test]
fn reductions_and_the_softmax_family() {
    let mut rng = Lcg(5);
    let x = rng.array(&[3, 4], -2.0, 2.0);
    for body in [
        "x.sum()",
        "(x * x.mean_axis(Axis(1)).insert_axis(Axis(1))).sum()",
        "x.mean()",
        "(x.sum_axis(Axis(0)) * x.mean_axis(Axis(0))).sum()",
        "max_axis(x, Axis(1)).sum()",
        "logsumexp(x, Axis(1)).sum() + logsumexp(x, Axis(0)).mean()",
        "(softmax(x, Axis(1)) * x).sum()",
        "(log_softmax(x, Axis(0)) * x).sum_axis(Axis(1)).sum()",
    ] {
        assert_gradients(
            &format!("fn f<T: Real>(x: ArrayView2<T>) -> T {{ {body} }}"),
            &[f(x.clone())],
        );
    }
}

#[test]
fn indexing_slicing_and_concatenation() {
    let mut rng = Lcg(6);
    let q = rng.array(&[4, 3], -1.0, 1.0);
    let a = Value::Int(ndarray::arr1(&[2usize, 0, 1, 2]).into_dyn());
    // pick scatters g[i] into [i, a_i]
    assert_gradients(
        "fn f<T: Real>(q: ArrayView2<T>, a: ArrayView1<usize>) -> Array1<T> { pick(q, &a) * 2.0 }",
        &[f(q.clone()), a.clone()],
    );
    // rows scatter-adds, repeated ids accumulate
    let ids = Value::Int(ndarray::arr1(&[1usize, 1, 3]).into_dyn());
    assert_gradients(
        "fn f<T: Real>(w: ArrayView2<T>, ids: ArrayView1<usize>) -> Array2<T> { rows(w, &ids).square() }",
        &[f(q.clone()), ids],
    );
    // LSTM-style gate slicing with a runtime size, then concatenation
    let src = "fn f<T: Real>(g: ArrayView2<T>, h: usize) -> Array2<T> {
        let i = sigmoid(g.slice_axis(Axis(1), 0..h));
        let o = tanh(g.slice_axis(Axis(1), h..2 * h));
        concatenate(Axis(1), &[&i, &o, &(i * o)])
    }";
    let gates = rng.array(&[3, 4], -1.0, 1.0);
    assert_gradients(src, &[f(gates), Value::Usize(2)]);
    // where_ with a comparison mask, maximum/minimum with broadcasting
    let x = rng
        .array(&[3, 4], -1.0, 1.0)
        .mapv(|v| if v.abs() < 0.05 { 0.3 } else { v });
    let y = rng.array(&[4], -1.0, 1.0);
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { where_(x > 0.0, x * 3.0, x.square()) }",
        &[f(x.clone())],
    );
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>, y: ArrayView1<T>) -> Array2<T> { maximum(x, &y) - minimum(&y, x * 0.5) }",
        &[f(x), f(y)],
    );
}

#[test]
fn convolution_pooling_and_flatten() {
    let mut rng = Lcg(12);
    let x = rng.array(&[2, 2, 6, 5], -1.0, 1.0);
    let w = rng.array(&[3, 2, 3, 3], -1.0, 1.0);
    let b = rng.array(&[3, 1, 1], -1.0, 1.0);
    for (stride, pad) in [(1, 0), (1, 1), (2, 1)] {
        let src = format!(
            "fn f<T: Real>(x: ArrayView4<T>, w: ArrayView4<T>, b: ArrayView3<T>) -> Array2<T> {{
                flatten(tanh(conv2d(x, w, {stride}, {pad}) + &b))
            }}"
        );
        assert_gradients(&src, &[f(x.clone()), f(w.clone()), f(b.clone())]);
    }
    // Distinct values keep every pooling window away from a tie (its kink).
    let distinct = ArrayD::from_shape_fn(IxDyn(&[2, 2, 4, 6]), |i| {
        (i[0] * 48 + i[1] * 24 + i[2] * 6 + i[3]) as f64 * 0.37 % 5.0 - 2.5
    });
    assert_gradients(
        "fn f<T: Real>(x: ArrayView4<T>) -> Array4<T> { max_pool2(x * 2.0) }",
        &[f(distinct)],
    );
}

#[test]
fn stop_gradient_no_grad_unused_inputs_and_tuples() {
    let mut rng = Lcg(8);
    let x = rng.array(&[2, 3], -1.0, 1.0);
    let w = rng.array(&[2, 3], -1.0, 1.0);
    // d/dx of x * stop_gradient(x) is stop_gradient(x), not 2x
    let g = compile("fn f<T: Real>(x: ArrayView2<T>) -> T { (x * stop_gradient(x)).sum() }");
    let grads = interp::run(&g, &[f(x.clone())], Some(&[ndarray::arr0(1.0).into_dyn()]))
        .expect("runs")
        .grads;
    assert_eq!(grads[0].as_ref().expect("x takes a gradient"), &x);
    // a #[no_grad] input gets no gradient; an unused input gets zeros
    let g = compile(
        "fn f<T: Real>(x: ArrayView2<T>, #[no_grad] w: ArrayView2<T>, unused: ArrayView1<T>) -> T { (x * w).sum() }",
    );
    let grads = interp::run(
        &g,
        &[f(x.clone()), f(w.clone()), f(rng.array(&[5], 0.0, 1.0))],
        Some(&[ndarray::arr0(1.0).into_dyn()]),
    )
    .expect("runs")
    .grads;
    assert!(grads[1].is_none());
    assert_eq!(
        grads[2].as_ref().expect("zeros"),
        &ArrayD::zeros(IxDyn(&[5]))
    );
    // two outputs, one of which also feeds the other (the LSTM cell's c and h)
    assert_gradients(
        "fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> (Array2<T>, Array2<T>) { let c = x * w; let h = tanh(c) * x; (h, c) }",
        &[f(x), f(w)],
    );
}

/// Every elementwise op of the table with a derivative and no kink, as a
/// function wrapping an expression: the argument is squashed into the op's
/// test domain by a sigmoid, so `ln` sees positive values and so on.
fn smooth_ops() -> Vec<impl Fn(&str) -> String> {
    ELEMENTWISE
        .iter()
        .filter(|op| op.uses.is_some() && (op.kinks)(op.test_params).is_empty())
        .map(|op| {
            move |e: &str| {
                let (lo, hi) = op.domain;
                let params: String = op.test_params.iter().map(|p| format!(", {p:?}")).collect();
                format!(
                    "{}({lo:?} + {:?} * sigmoid({e} * 0.5 + x){params})",
                    op.name,
                    hi - lo
                )
            }
        })
        .collect()
}

/// Random smooth expressions over `x` [3, 4], `b` [4] and `c` [3, 1].
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        (1..9i32).prop_map(|k| format!("{}.5", k - 5))
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), 0..smooth_ops().len()).prop_map(|(e, k)| smooth_ops()[k](&e)),
            (
                inner.clone(),
                inner.clone(),
                prop_oneof![Just("+"), Just("-"), Just("*")]
            )
                .prop_map(|(a, b, op)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("({a} / (square({b} + x) + 1.0))")),
            inner
                .clone()
                .prop_map(|e| format!("(softmax(x + {e}, Axis(1)) * 2.0)")),
            inner
                .clone()
                .prop_map(|e| format!("(x * (x + {e}).mean_axis(Axis(0)))")),
            inner.prop_map(|e| format!("(logsumexp(x - {e}, Axis(1)).sum() + x)")),
        ]
    })
}

proptest! {
    // A fixed seed keeps CI reproducible; change it (or set cases higher) to explore.
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00ba_c4b0),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_expressions_match_finite_differences(body in expr()) {
        let src = format!("fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>, c: ArrayView2<T>) -> Array2<T> {{ x + {body} }}");
        let mut rng = Lcg(11);
        let inputs = [f(rng.array(&[3, 4], -1.0, 1.0)), f(rng.array(&[4], -1.0, 1.0)), f(rng.array(&[3, 1], -1.0, 1.0))];
        // Random expressions can cancel (softmax ignores a shift of its lane), giving
        // gradients that are exactly zero in theory and rounding noise in practice:
        // below 1e-4 the error is measured absolutely.
        let err = max_gradient_error_with_floor(&src, &inputs, 1e-4);
        prop_assert!(err < 1e-7, "{} gives max relative error {:e}", src, err);
    }
}

/// Every op described by data in `backprop_dsl::ops`, on the test cases of its
/// definition: the gradients of all its forms against finite differences.
#[test]
fn every_op_described_by_data_on_its_cases() {
    use backprop_dsl::ops::CaseInput;
    let mut rng = Lcg(11);
    for prim in backprop_dsl::ops::prims() {
        for case in prim.cases {
            let inputs: Vec<Value> = case
                .inputs
                .iter()
                .map(|input| match *input {
                    CaseInput::Float(shape, (lo, hi)) => Value::Float(rng.array(shape, lo, hi)),
                    CaseInput::Index(shape, values) => Value::Int(
                        ArrayD::from_shape_vec(IxDyn(shape), values.to_vec())
                            .expect("the case's indices fill its shape"),
                    ),
                    CaseInput::Size(n) => Value::Usize(n),
                    // A permutation of evenly spaced values: all distinct, none close.
                    CaseInput::Distinct(shape) => {
                        let n: usize = shape.iter().product();
                        let mut values: Vec<f64> =
                            (0..n).map(|i| i as f64 / n as f64 - 0.5).collect();
                        for i in (1..n).rev() {
                            let j = (rng.next() * (i + 1) as f64) as usize;
                            values.swap(i, j.min(i));
                        }
                        Value::Float(ArrayD::from_shape_vec(IxDyn(shape), values).expect("filled"))
                    }
                })
                .collect();
            let src = case.source();
            let err = max_gradient_error(&src, &inputs);
            assert!(err < 1e-7, "`{}`: {src}: relative error {err:e}", prim.name);
        }
    }
}
