//! Matrix products and transposes. The backward of a product is a product:
//! for `C = A B`, `dA = G B^T` ([`dot_mt`]) and `dB = A^T G` ([`dot_tm`]).

use ndarray::{Array0, Array1, Array2, ArrayRef1, ArrayRef2, Axis};

use crate::Real;
use crate::Site;

fn check(ok: bool, site: &Site, a: &[usize], b: &[usize], why: &str) {
    if !ok {
        site.shape_mismatch(a, b, why)
    }
}

/// Matrix times matrix: `[n, k] x [k, m] -> [n, m]`.
pub fn dot_mm<T: Real>(a: &ArrayRef2<T>, b: &ArrayRef2<T>, site: &Site) -> Array2<T> {
    check(
        a.ncols() == b.nrows(),
        site,
        a.shape(),
        b.shape(),
        "inner dimensions differ",
    );
    a.dot(b)
}

/// Matrix times vector: `[n, k] x [k] -> [n]`.
pub fn dot_mv<T: Real>(a: &ArrayRef2<T>, v: &ArrayRef1<T>, site: &Site) -> Array1<T> {
    check(
        a.ncols() == v.len(),
        site,
        a.shape(),
        v.shape(),
        "inner dimensions differ",
    );
    a.dot(v)
}

/// Vector times matrix: `[k] x [k, m] -> [m]`.
pub fn dot_vm<T: Real>(v: &ArrayRef1<T>, b: &ArrayRef2<T>, site: &Site) -> Array1<T> {
    check(
        v.len() == b.nrows(),
        site,
        v.shape(),
        b.shape(),
        "inner dimensions differ",
    );
    v.dot(b)
}

/// Inner product of two vectors, as a 0-d array.
pub fn dot_vv<T: Real>(u: &ArrayRef1<T>, v: &ArrayRef1<T>, site: &Site) -> Array0<T> {
    check(
        u.len() == v.len(),
        site,
        u.shape(),
        v.shape(),
        "lengths differ",
    );
    ndarray::arr0(u.dot(v))
}

/// `a b^T` without materializing the transpose.
pub fn dot_mt<T: Real>(a: &ArrayRef2<T>, b: &ArrayRef2<T>) -> Array2<T> {
    a.dot(&b.t())
}

/// `a^T b` without materializing the transpose.
pub fn dot_tm<T: Real>(a: &ArrayRef2<T>, b: &ArrayRef2<T>) -> Array2<T> {
    a.t().dot(b)
}

/// [`dot_mt`] added into `acc` by the matrix product itself (`acc += a b^T`,
/// no product array made): a layer's parameter gradient accumulated in place.
/// Returns `acc`, for the non-finite guard.
///
/// # Panics
/// If `acc` does not have the product's shape (the generated code's shapes are
/// checked before, so this is an internal error).
pub fn dot_mt_acc<'a, T: Real>(
    a: &ArrayRef2<T>,
    b: &ArrayRef2<T>,
    acc: &'a mut ArrayRef2<T>,
) -> &'a ArrayRef2<T> {
    accumulate_product(&a.view(), &b.t(), acc, "dot_mt_acc")
}

/// [`dot_tm`] added into `acc` by the matrix product itself (`acc += a^T b`).
///
/// # Panics
/// As [`dot_mt_acc`].
pub fn dot_tm_acc<'a, T: Real>(
    a: &ArrayRef2<T>,
    b: &ArrayRef2<T>,
    acc: &'a mut ArrayRef2<T>,
) -> &'a ArrayRef2<T> {
    accumulate_product(&a.t(), &b.view(), acc, "dot_tm_acc")
}

fn accumulate_product<'a, T: Real>(
    a: &ArrayRef2<T>,
    b: &ArrayRef2<T>,
    acc: &'a mut ArrayRef2<T>,
    kernel: &'static str,
) -> &'a ArrayRef2<T> {
    let shape = [a.nrows(), b.ncols()];
    if acc.shape() != shape {
        Site::internal(kernel).shape_mismatch(
            acc.shape(),
            &shape,
            "the gradient accumulated into has another shape than the product",
        );
    }
    ndarray::linalg::general_mat_mul(T::one(), a, b, T::one(), acc);
    acc
}

/// Outer product `u v^T`: `[n] x [m] -> [n, m]`.
pub fn outer<T: Real>(u: &ArrayRef1<T>, v: &ArrayRef1<T>) -> Array2<T> {
    let col = u.view().insert_axis(Axis(1));
    let row = v.view().insert_axis(Axis(0));
    col.dot(&row)
}

/// The transpose of a matrix, as a new array in standard layout.
pub fn transpose<T: Real>(a: &ArrayRef2<T>) -> Array2<T> {
    a.t().as_standard_layout().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const SITE: Site = Site::internal("dot");

    /// The accumulating products add what `dot_tm` and `dot_mt` compute, bit for
    /// bit when the accumulator starts at zero (the GEMM adds its product once).
    #[test]
    fn accumulating_products_add_the_product_in_place() {
        let a = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64 - 1.3 * j as f64).sin());
        let b = Array2::from_shape_fn((5, 4), |(i, j)| (0.7 * i as f64 + j as f64).cos());
        let mut acc = Array2::zeros((3, 4));
        dot_tm_acc(&a, &b, &mut acc);
        assert_eq!(acc, dot_tm(&a, &b));
        dot_tm_acc(&a, &b, &mut acc);
        let twice = &dot_tm(&a, &b) * 2.0;
        assert!(acc.iter().zip(&twice).all(|(x, y)| (x - y).abs() < 1e-14));
        let c = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
        let mut acc = Array2::from_elem((2, 5), 1.0);
        dot_mt_acc(&c, &a, &mut acc);
        assert_eq!(acc, dot_mt(&c, &a) + 1.0);
        let wrong = std::panic::catch_unwind(|| {
            let mut small = Array2::<f64>::zeros((2, 2));
            dot_tm_acc(&a, &b, &mut small);
        })
        .expect_err("a wrong accumulator shape panics");
        let msg = wrong.downcast_ref::<String>().expect("a message");
        assert!(
            msg.contains("dot_tm_acc") && msg.contains("[2, 2]"),
            "{msg}"
        );
    }

    #[test]
    fn products_match_hand_computed_values() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        let b = array![[5.0, 6.0], [7.0, 8.0]];
        assert_eq!(dot_mm(&a, &b, &SITE), array![[19.0, 22.0], [43.0, 50.0]]);
        assert_eq!(dot_mv(&a, &array![1.0, 1.0], &SITE), array![3.0, 7.0]);
        assert_eq!(dot_vm(&array![1.0, 1.0], &a, &SITE), array![4.0, 6.0]);
        assert_eq!(
            dot_vv(&array![1.0, 2.0], &array![3.0, 4.0], &SITE),
            ndarray::arr0(11.0)
        );
        assert_eq!(dot_mt(&a, &b), a.dot(&b.t()));
        assert_eq!(dot_tm(&a, &b), a.t().dot(&b));
        assert_eq!(
            outer(&array![1.0, 2.0], &array![3.0, 4.0, 5.0]),
            array![[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
        );
        assert_eq!(transpose(&a), array![[1.0, 3.0], [2.0, 4.0]]);
    }

    #[test]
    #[should_panic(expected = "inner dimensions differ")]
    fn mismatched_product_names_the_problem() {
        dot_mm(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((2, 3)), &SITE);
    }
}
