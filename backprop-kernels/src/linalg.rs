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
