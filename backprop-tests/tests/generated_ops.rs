//! Every op of the language checked through generated code: each op gets a
//! `#[differentiable]` function, and `check_function` compares its generated
//! backward with central differences in f64. A new op in the table without a
//! function here fails `every_op_of_the_table_is_covered`.

use backprop::prelude::*;
use backprop::{DynFunction, DynValue, GradCheck, SeededRng, check_function};
use ndarray::{ArrayD, IxDyn, array};

fn random(shape: &[usize], lo: f64, hi: f64, rng: &mut SeededRng) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform_in(lo, hi))
}

/// One generated function per elementwise op, with the table's test parameters.
macro_rules! elementwise_fns {
    ($($name:ident, $dyn_name:ident => $op:ident($($p:literal),*);)*) => {
        $(
            // Each op on an input directly: `exp(x)` is what `unbounded_exp` warns of.
            #[differentiable(allow(unbounded_exp))]
            fn $name<T: Real>(x: ArrayView2<T>) -> Array2<T> {
                $op(x $(, $p)*)
            }
        )*
        fn elementwise_functions() -> Vec<(&'static str, DynFunction<f64>)> {
            vec![$((stringify!($op), $dyn_name::<f64>())),*]
        }
    };
}

elementwise_fns! {
    op_neg, op_neg_dyn => neg();
    op_exp, op_exp_dyn => exp();
    op_ln, op_ln_dyn => ln();
    op_sqrt, op_sqrt_dyn => sqrt();
    op_abs, op_abs_dyn => abs();
    op_square, op_square_dyn => square();
    op_powi, op_powi_dyn => powi(3);
    op_powf, op_powf_dyn => powf(1.7);
    op_recip, op_recip_dyn => recip();
    op_sigmoid, op_sigmoid_dyn => sigmoid();
    op_tanh, op_tanh_dyn => tanh();
    op_relu, op_relu_dyn => relu();
    op_leaky_relu, op_leaky_relu_dyn => leaky_relu(0.1);
    op_elu, op_elu_dyn => elu(0.7);
    op_softplus, op_softplus_dyn => softplus();
    op_gelu, op_gelu_dyn => gelu();
    op_silu, op_silu_dyn => silu();
    op_sin, op_sin_dyn => sin();
    op_cos, op_cos_dyn => cos();
    op_clip, op_clip_dyn => clip(-1.0, 1.5);
    op_huber, op_huber_dyn => huber(1.0);
}

#[test]
fn every_op_of_the_table_is_covered() {
    let covered: Vec<&str> = elementwise_functions().iter().map(|(n, _)| *n).collect();
    for op in backprop::ops::ELEMENTWISE
        .iter()
        .filter(|op| op.uses.is_some())
    {
        assert!(
            covered.contains(&op.name),
            "no generated-code test for `{}`",
            op.name
        );
    }
}

#[test]
fn elementwise_ops_through_generated_code() {
    let mut rng = SeededRng::new(1);
    for (name, f) in elementwise_functions() {
        let op = backprop::ops::Elementwise::find(name).expect("in the table");
        let kinks = (op.kinks)(op.test_params);
        let x = random(&[3, 4], op.domain.0, op.domain.1, &mut rng).mapv(|v| {
            match kinks.iter().find(|&&k| (v - k).abs() < 0.05) {
                Some(&k) => k + 0.05f64.copysign(v - k),
                None => v,
            }
        });
        let opts = GradCheck {
            tolerance: op.tolerance,
            ..GradCheck::default()
        };
        let report = check_function(&f, &[DynValue::Float(x)], &opts);
        assert!(report.passed(), "{report}");
    }
}

#[differentiable]
fn affine_relu<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z = x.dot(&w) + &b;
    relu(z)
}

#[differentiable]
fn softmax_cross_entropy<T: Real>(scores: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    let logp = log_softmax(scores, Axis(1));
    -pick(logp, &labels).mean()
}

#[differentiable]
fn broadcasting<T: Real>(
    x: ArrayView2<T>,
    row: ArrayView1<T>,
    col: ArrayView2<T>,
    s: T,
) -> Array2<T> {
    let a = x * &row + &col;
    let b = (x - s) / (col.square() + 1.0);
    a * b - row * col * 0.5
}

#[differentiable]
fn matrix_forms<T: Real>(a: ArrayView2<T>, v: ArrayView1<T>) -> T {
    let gram = a.dot(&a.t());
    let av = a.t().dot(&gram.dot(&v.slice_axis(Axis(0), 0..3)));
    av.dot(&v) + gram.sum()
}

#[differentiable]
fn reductions<T: Real>(x: ArrayView2<T>) -> Array1<T> {
    let m = max_axis(x, Axis(1)) + logsumexp(x, Axis(1));
    let s = softmax(x, Axis(0)).sum_axis(Axis(1));
    m * s + x.mean_axis(Axis(1)) - x.mean()
}

#[differentiable]
fn where_and_extrema<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>) -> Array2<T> {
    let m = maximum(x, &y) + minimum(x, 0.25);
    where_(x > y, m * x, m - y)
}

#[differentiable]
fn transposes_and_vector_matrix<T: Real>(a: ArrayView2<T>, v: ArrayView1<T>) -> Array1<T> {
    let at = transpose(a) * 0.5 + a.t();
    v.dot(&at)
}

#[differentiable]
fn concatenated<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> {
    let both = concatenate(Axis(1), &[&a, &b]);
    let n = both.nrows();
    let k = b.ncols();
    tanh(both).slice_axis(Axis(0), 1..n) * 2.0
        + concatenate(Axis(1), &[&b, &a])
            .slice_axis(Axis(1), 0..k + 2)
            .slice_axis(Axis(0), 0..n - 1)
}

#[differentiable]
fn embedding_lookup<T: Real>(
    table: ArrayView2<T>,
    ids: ArrayView1<usize>,
    #[no_grad] scale: ArrayView2<T>,
) -> Array2<T> {
    // `stop_gradient` of an input the check does not perturb, so finite
    // differences agree with the gradient it cuts.
    let e = rows(table, &ids);
    e.insert_axis(Axis(1)).sum_axis(Axis(1)) * stop_gradient(scale.view().to_owned())
}

#[differentiable]
fn image_ops<T: Real>(x: ArrayView4<T>, w: ArrayView4<T>) -> Array2<T> {
    let c = conv2d(x, w, 1, 1);
    flatten(max_pool2(c))
}

/// The ops of the language a case covers, its generated function, and its inputs.
type Case = (
    &'static [&'static str],
    DynFunction<f64>,
    Vec<DynValue<f64>>,
);

/// One generated function per case, and the ops of the language each covers;
/// every op of the table must be covered (`every_structural_op_is_compiled`).
fn structural_cases() -> Vec<Case> {
    let mut rng = SeededRng::new(2);
    let mut r = |shape: &[usize]| DynValue::Float(random(shape, -1.0, 1.0, &mut rng));
    vec![
        (
            &["dot"],
            affine_relu_dyn(),
            vec![r(&[4, 3]), r(&[3, 5]), r(&[5])],
        ),
        (
            &["log_softmax", "pick", "mean"],
            softmax_cross_entropy_dyn(),
            vec![
                r(&[4, 3]),
                DynValue::Int(array![0usize, 2, 1, 2].into_dyn()),
            ],
        ),
        (
            &[],
            broadcasting_dyn(),
            vec![r(&[3, 4]), r(&[4]), r(&[3, 1]), r(&[])],
        ),
        (
            &["dot", "t", "slice_axis", "sum"],
            matrix_forms_dyn(),
            vec![r(&[3, 3]), r(&[3])],
        ),
        (
            &[
                "max_axis",
                "logsumexp",
                "softmax",
                "sum_axis",
                "mean_axis",
                "mean",
            ],
            reductions_dyn(),
            vec![r(&[3, 4])],
        ),
        (
            &["maximum", "minimum", "where_"],
            where_and_extrema_dyn(),
            {
                // Keep x and y apart, so no comparison sits at its kink.
                let x = random(&[3, 4], -1.0, 1.0, &mut SeededRng::new(3));
                let y = x.mapv(|v| if v > 0.0 { v - 0.4 } else { v + 0.4 });
                vec![DynValue::Float(x), DynValue::Float(y)]
            },
        ),
        (
            &["transpose", "t", "dot"],
            transposes_and_vector_matrix_dyn(),
            vec![r(&[3, 4]), r(&[4])],
        ),
        (
            &["concatenate", "nrows", "ncols", "slice_axis"],
            concatenated_dyn(),
            vec![r(&[3, 2]), r(&[3, 3])],
        ),
        (
            &[
                "rows",
                "insert_axis",
                "sum_axis",
                "stop_gradient",
                "view",
                "to_owned",
                "sum",
            ],
            embedding_lookup_dyn(),
            vec![
                r(&[5, 3]),
                DynValue::Int(array![4usize, 0, 4].into_dyn()),
                r(&[3, 3]),
            ],
        ),
        (&["conv2d", "max_pool2", "flatten"], image_ops_dyn(), {
            // Distinct values, so no pooling window has a tie (a kink).
            let x = ArrayD::from_shape_fn(IxDyn(&[2, 2, 4, 4]), |i| {
                ((i[0] * 32 + i[1] * 16 + i[2] * 4 + i[3]) as f64 * 0.61).sin()
            });
            vec![DynValue::Float(x), r(&[3, 2, 3, 3])]
        }),
        (&["len_of"], lengths_dyn(), vec![r(&[3, 4])]),
        (
            &["matmul", "softmax"],
            attention_scores_dyn(),
            vec![r(&[2, 3, 4]), r(&[2, 4, 3]), r(&[4, 5])],
        ),
        (&["take_along_axis"], gathered_dyn(), {
            let idx = array![[[0usize, 2], [1, 1]], [[2, 0], [0, 0]]];
            vec![r(&[2, 3, 2]), DynValue::Int(idx.into_dyn())]
        }),
    ]
}

/// Both forms of the batched product, as multi-head attention uses them.
#[differentiable]
fn attention_scores<T: Real>(q: ArrayView3<T>, k: ArrayView3<T>, w: ArrayView2<T>) -> Array3<T> {
    let scores = softmax(matmul(q, &k) * 0.5, Axis(2));
    matmul(matmul(scores, &q), &w)
}

#[differentiable]
fn gathered<T: Real>(x: ArrayView3<T>, idx: ArrayView3<usize>) -> Array3<T> {
    tanh(take_along_axis(x, &idx, Axis(1))) * 2.0
}

#[differentiable]
fn lengths<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    let h = x.len_of(Axis(1)) / 2;
    x.slice_axis(Axis(1), h..2 * h)
}

#[test]
fn structural_ops_through_generated_code() {
    for (covers, f, inputs) in structural_cases() {
        let report = check_function(&f, &inputs, &GradCheck::default());
        assert!(report.passed(), "{covers:?}: {report}");
    }
}

/// Every structural op of the language is compiled by rustc through the macro and
/// gradient-checked above: an op added to the table without a case fails here.
#[test]
fn every_structural_op_is_compiled() {
    let cases = structural_cases();
    for name in backprop_dsl::ops::syntaxes().map(|s| s.name) {
        assert!(
            cases.iter().any(|(covers, _, _)| covers.contains(&name)),
            "no generated-code case for `{name}`: add one to `structural_cases`"
        );
    }
}

#[test]
fn generic_functions_also_run_in_f32() {
    let x = array![[1.0f32, -2.0], [0.5, 3.0]];
    let w = array![[1.0f32, 0.0], [0.0, 1.0]];
    let b = array![0.0f32, 1.0];
    let (y, saved) = affine_relu_train(x.view(), w.view(), b.view());
    assert_eq!(y, array![[1.0, 0.0], [0.5, 4.0]]);
    let grads = affine_relu_backward(&saved, Array2::ones((2, 2)).view());
    assert_eq!(grads.b, array![2.0, 1.0]);
}

#[test]
fn a_shape_mismatch_names_the_op_the_expression_and_both_shapes() {
    let x = Array2::<f64>::zeros((2, 3));
    let w = Array2::<f64>::zeros((4, 5));
    let b = Array1::<f64>::zeros(5);
    let err = std::panic::catch_unwind(|| affine_relu(x.view(), w.view(), b.view()))
        .expect_err("must panic");
    let msg = err.downcast_ref::<String>().expect("a message");
    assert!(msg.contains("`dot`"), "{msg}");
    assert!(msg.contains("x.dot(&w)"), "{msg}");
    assert!(msg.contains("generated_ops.rs:"), "{msg}");
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");
}

/// A broadcast inside a fused loop (`x + &b` feeds `tanh` and a sum in one loop).
#[differentiable]
fn fused_bias_tanh<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> T {
    (tanh(x + &b) * 2.0).sum()
}

/// Fusing `x + &b` into a loop keeps the add's own shape error, in the forward and
/// in the training forward, and the loop computes what the kernels compute.
#[test]
fn a_shape_mismatch_inside_a_fused_loop_names_the_op_and_both_shapes() {
    let x = Array2::<f64>::from_shape_fn((3, 4), |(i, j)| (i as f64) - 0.3 * j as f64);
    let b = Array1::<f64>::from_vec(vec![0.1, -0.2, 0.3, 0.0]);
    let expected = (x.clone() + &b).mapv(|v| 2.0 * v.tanh()).sum();
    assert!((fused_bias_tanh(x.view(), b.view()) - expected).abs() < 1e-12);
    let wrong = Array1::<f64>::zeros(5);
    for err in [
        std::panic::catch_unwind(|| fused_bias_tanh(x.view(), wrong.view()))
            .expect_err("must panic"),
        std::panic::catch_unwind(|| fused_bias_tanh_train(x.view(), wrong.view()).0)
            .expect_err("must panic"),
    ] {
        let msg = err.downcast_ref::<String>().expect("a message");
        assert!(msg.contains("`add`"), "{msg}");
        assert!(msg.contains("x + &b"), "{msg}");
        assert!(msg.contains("[3, 4]") && msg.contains("[5]"), "{msg}");
    }
    let report = check_function(
        &fused_bias_tanh_dyn(),
        &[DynValue::Float(x.into_dyn()), DynValue::Float(b.into_dyn())],
        &GradCheck::default(),
    );
    assert!(report.passed(), "{report}");
}

/// The backward writes a loop's result over a temporary nothing reads after it
/// (`zip_map1_into(s_2, ..)` below, with `s = exp(c * 0.5)` recomputed): with `c`
/// of `x`'s shape the buffer is reused, with `c` a column the loop stretches the
/// temporary and a new array is made.
#[differentiable(allow(unbounded_exp))]
fn reused_buffers<T: Real>(x: ArrayView2<T>, #[no_grad] c: ArrayView2<T>) -> T {
    let s = exp(c * 0.5);
    let y = tanh(x);
    (y * &s).sum() + (y * x * &s).sum()
}

#[test]
fn a_loop_over_a_temporary_computes_the_same_whether_its_buffer_is_reused() {
    let source = reused_buffers_dyn::<f64>().backward_source;
    assert!(source.contains("zip_map1_into(\n        s_2"), "{source}");
    let mut rng = SeededRng::new(9);
    for c_shape in [[3, 4], [3, 1], [1, 4]] {
        let x = random(&[3, 4], -1.0, 1.0, &mut rng);
        let c = random(&c_shape, -1.0, 1.0, &mut rng);
        let report = check_function(
            &reused_buffers_dyn(),
            &[DynValue::Float(x), DynValue::Float(c)],
            &GradCheck::default(),
        );
        assert!(report.passed(), "c of shape {c_shape:?}: {report}");
    }
}

/// A 0-d array result stays an array: `.mean()` returned as `Array0<T>`.
#[differentiable]
fn mean_as_array0<T: Real>(x: ArrayView2<T>) -> Array0<T> {
    (x * x).mean()
}

/// A scalar `T` beside an `Array0<T>`: only the first is turned into a scalar.
#[differentiable]
fn scalar_beside_array0<T: Real>(x: ArrayView2<T>) -> (T, Array0<T>) {
    (x.sum(), tanh(x).mean())
}

/// `powi` with a `usize` input as its exponent, and a negative literal one.
#[differentiable]
fn integer_exponents<T: Real>(x: ArrayView2<T>, n: usize) -> Array2<T> {
    powi(x, n) + powi(x, -2)
}

#[test]
fn outputs_of_rank_zero_keep_their_declared_types() {
    let x = array![[1.0f64, 2.0], [3.0, 4.0]];
    let m: Array0<f64> = mean_as_array0(x.view());
    assert_eq!(m[()], 7.5);
    let (s, t): (f64, Array0<f64>) = scalar_beside_array0(x.view());
    assert_eq!(s, 10.0);
    assert!((t[()] - x.mapv(f64::tanh).mean().unwrap_or(0.0)).abs() < 1e-15);
    let (_, saved) = scalar_beside_array0_train(x.view());
    let grads = scalar_beside_array0_backward(&saved, (1.0, ndarray::arr0(0.0).view()));
    assert_eq!(grads.x, Array2::<f64>::ones((2, 2)));
}

#[test]
fn integer_exponents_are_exact() {
    let x = array![[1.5f64, -2.0], [0.5, 3.0]];
    let y = integer_exponents(x.view(), 3);
    assert_eq!(y, x.mapv(|v| v * v * v + 1.0 / (v * v)));
    let mut rng = SeededRng::new(4);
    let cases: Vec<(DynFunction<f64>, Vec<DynValue<f64>>)> = vec![
        (
            mean_as_array0_dyn(),
            vec![DynValue::Float(random(&[3, 4], -1.0, 1.0, &mut rng))],
        ),
        (
            scalar_beside_array0_dyn(),
            vec![DynValue::Float(random(&[3, 4], -1.0, 1.0, &mut rng))],
        ),
        (
            integer_exponents_dyn(),
            // Away from 0, where x^-2 blows up.
            vec![
                DynValue::Float(random(&[3, 4], 0.5, 2.0, &mut rng)),
                DynValue::Usize(3),
            ],
        ),
    ];
    for (f, inputs) in cases {
        let report = check_function(&f, &inputs, &GradCheck::default());
        assert!(report.passed(), "{report}");
    }
}

/// Eight inputs: the user's own `#[allow]` covers the generated `_train` too
/// (clippy runs on this file with `-D warnings` in CI).
#[allow(clippy::too_many_arguments)]
#[differentiable]
fn many_inputs<T: Real>(
    a: ArrayView1<T>,
    b: ArrayView1<T>,
    c: ArrayView1<T>,
    d: ArrayView1<T>,
    e: ArrayView1<T>,
    f: ArrayView1<T>,
    g: ArrayView1<T>,
    h: ArrayView1<T>,
) -> T {
    (a * b + c * d + e * f + g * h).sum()
}

#[test]
fn many_inputs_compile_without_lints() {
    let v = array![1.0f64, 2.0];
    let (y, saved) = many_inputs_train(
        v.view(),
        v.view(),
        v.view(),
        v.view(),
        v.view(),
        v.view(),
        v.view(),
        v.view(),
    );
    assert_eq!(y, 20.0);
    assert_eq!(many_inputs_backward(&saved, 1.0).h, v);
}

/// The same value returned twice, written so or merged by CSE: moved once, copied after.
#[differentiable]
fn returned_twice<T: Real>(x: ArrayView2<T>) -> (Array2<T>, Array2<T>, Array2<T>) {
    let y = sigmoid(x);
    (tanh(x), tanh(x) * 1.0, y.view().to_owned())
}

#[test]
fn a_value_returned_twice_compiles_and_gets_both_gradients() {
    let x = array![[0.5f64, -1.0]];
    let (a, b, c) = returned_twice(x.view());
    assert_eq!(a, b);
    assert_eq!(c, x.mapv(|v| 1.0 / (1.0 + (-v).exp())));
    let report = check_function(
        &returned_twice_dyn(),
        &[DynValue::Float(x.into_dyn())],
        &GradCheck::default(),
    );
    assert!(report.passed(), "{report}");
}

/// An upstream gradient of another shape than the output is an error naming both
/// shapes, not a gradient broadcast to a wrong shape.
#[test]
fn an_upstream_gradient_of_another_shape_is_an_error() {
    let x = Array2::<f64>::ones((3, 2));
    let w = Array2::<f64>::ones((2, 4));
    let b = Array1::<f64>::zeros(4);
    let (_, saved) = affine_relu_train(x.view(), w.view(), b.view());
    let wrong = Array2::<f64>::ones((1, 4));
    let err = std::panic::catch_unwind(|| affine_relu_backward(&saved, wrong.view()))
        .expect_err("must panic");
    let msg = err.downcast_ref::<String>().expect("a message");
    assert!(msg.contains("`affine_relu_backward`"), "{msg}");
    assert!(msg.contains("[1, 4]") && msg.contains("[3, 4]"), "{msg}");
}
