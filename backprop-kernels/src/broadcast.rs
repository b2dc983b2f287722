//! Binary arithmetic with NumPy broadcasting, comparisons, `where_`, and the
//! helpers that undo broadcasting in the backward pass.

use ndarray::{Array, ArrayRef, ArrayView, Axis, CowArray, DimMax, Dimension, IxDyn, Zip};

use crate::Compare;
use crate::Real;
use crate::Site;

/// The broadcast shape of two shapes (NumPy rules: align trailing axes; a length
/// of 1 stretches), or `None` if they are incompatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() >= n {
            s[i + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// A dimension value of type `D` holding `shape`.
pub(crate) fn dim_of<D: Dimension>(shape: &[usize]) -> D {
    let mut d = D::zeros(shape.len());
    for (slot, &len) in d.as_array_view_mut().iter_mut().zip(shape) {
        *slot = len;
    }
    d
}

/// The output dimension type of a broadcasting op on `D1` and `D2`.
pub type Broadcast<D1, D2> = <D1 as DimMax<D2>>::Output;

/// A view stretched to the broadcast shape of `D1` and `D2`.
type BroadcastView<'a, A, D1, D2> = ArrayView<'a, A, Broadcast<D1, D2>>;

/// The shape two operands of a broadcasting op take together: what each
/// broadcasting kernel checks, and what a fused loop checks before it runs.
///
/// # Panics
/// With the op's shape error (naming the op, the expression and both shapes) if
/// the shapes cannot be broadcast together.
pub fn broadcast_dims<D1, D2>(a: &D1, b: &D2, site: &Site) -> Broadcast<D1, D2>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    joined_dims(
        a.slice(),
        b.slice(),
        site,
        "the shapes cannot be broadcast together",
    )
}

/// The shape a mask and the values of `where_` take together (see [`broadcast_dims`]).
///
/// # Panics
/// With `where_`'s shape error if the mask cannot be broadcast to the values.
pub fn broadcast_mask_dims<DM, D>(mask: &DM, values: &D, site: &Site) -> Broadcast<DM, D>
where
    DM: Dimension + DimMax<D>,
    D: Dimension,
{
    joined_dims(
        mask.slice(),
        values.slice(),
        site,
        "the mask cannot be broadcast to the values",
    )
}

/// The broadcast of two shapes as a dimension, or `site`'s shape error saying `why`.
fn joined_dims<E: Dimension>(a: &[usize], b: &[usize], site: &Site, why: &str) -> E {
    match broadcast_shape(a, b) {
        Some(shape) => dim_of(&shape),
        None => site.shape_mismatch(a, b, why),
    }
}

/// Both operands as views of their common broadcast shape.
fn co_broadcast<'a, A, D1, D2>(
    a: &'a ArrayRef<A, D1>,
    b: &'a ArrayRef<A, D2>,
    site: &Site,
) -> (BroadcastView<'a, A, D1, D2>, BroadcastView<'a, A, D1, D2>)
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let dim = broadcast_dims(&a.raw_dim(), &b.raw_dim(), site);
    let av = a
        .broadcast(dim.clone())
        .expect("broadcast shape checked above");
    let bv = b.broadcast(dim).expect("broadcast shape checked above");
    (av, bv)
}

/// Applies `f` elementwise after broadcasting, through the fused loops'
/// `zip_map2` (slices or rows under AVX2 dispatch where the layout allows).
pub fn zip_broadcast<A, B, D1, D2>(
    a: &ArrayRef<A, D1>,
    b: &ArrayRef<A, D2>,
    site: &Site,
    f: impl Fn(A, A) -> B + Sync,
) -> Array<B, Broadcast<D1, D2>>
where
    A: Copy + Sync,
    B: Copy + Default + Send,
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let (av, bv) = co_broadcast(a, b, site);
    crate::zip_map2(&av, &bv, f)
}

macro_rules! binary_kernels {
    ($($(#[$doc:meta])* $name:ident => |$a:ident, $b:ident| $body:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Real, D1, D2>(a: &ArrayRef<T, D1>, b: &ArrayRef<T, D2>, site: &Site) -> Array<T, Broadcast<D1, D2>>
        where
            D1: Dimension + DimMax<D2>,
            D2: Dimension,
        {
            zip_broadcast(a, b, site, |$a, $b| $body)
        }
    )*};
}

binary_kernels! {
    /// `a + b` with broadcasting. Backward: `sum_to(g, a)`, `sum_to(g, b)`.
    add => |a, b| a + b;
    /// `a - b` with broadcasting. Backward: `sum_to(g, a)`, `sum_to(-g, b)`.
    sub => |a, b| a - b;
    /// `a * b` with broadcasting. Backward: `sum_to(g * b, a)`, `sum_to(g * a, b)`.
    mul => |a, b| a * b;
    /// `a / b` with broadcasting. Backward: `sum_to(g / b, a)`, `sum_to(-g * y / b, b)`.
    div => |a, b| a / b;
    /// Elementwise maximum. Backward: `g` goes to `a` where `a >= b`, else to `b`.
    maximum => |a, b| if a >= b { a } else { b };
    /// Elementwise minimum. Backward: `g` goes to `a` where `a <= b`, else to `b`.
    minimum => |a, b| if a <= b { a } else { b };
    /// 1 where `a >= b`, else 0 (where a `maximum` gradient goes to `a`).
    mask_ge => |a, b| if a >= b { T::one() } else { T::zero() };
    /// 1 where `a < b`, else 0 (where a `maximum` gradient goes to `b`).
    mask_lt => |a, b| if a < b { T::one() } else { T::zero() };
    /// 1 where `a <= b`, else 0 (where a `minimum` gradient goes to `a`).
    mask_le => |a, b| if a <= b { T::one() } else { T::zero() };
    /// 1 where `a > b`, else 0 (where a `minimum` gradient goes to `b`).
    mask_gt => |a, b| if a > b { T::one() } else { T::zero() };
}

/// `a + c` for a constant `c`.
pub fn add_scalar<T: Real, D: Dimension>(a: &ArrayRef<T, D>, c: T) -> Array<T, D> {
    a.mapv(|a| a + c)
}

/// `a * c` for a constant `c`.
pub fn mul_scalar<T: Real, D: Dimension>(a: &ArrayRef<T, D>, c: T) -> Array<T, D> {
    a.mapv(|a| a * c)
}

/// `a - c` for a constant `c`.
pub fn sub_scalar<T: Real, D: Dimension>(a: &ArrayRef<T, D>, c: T) -> Array<T, D> {
    a.mapv(|a| a - c)
}

/// `c - a` for a constant `c`.
pub fn scalar_sub<T: Real, D: Dimension>(c: T, a: &ArrayRef<T, D>) -> Array<T, D> {
    a.mapv(|a| c - a)
}

/// `a / c` for a constant `c`.
pub fn div_scalar<T: Real, D: Dimension>(a: &ArrayRef<T, D>, c: T) -> Array<T, D> {
    a.mapv(|a| a / c)
}

/// `c / a` for a constant `c`.
pub fn scalar_div<T: Real, D: Dimension>(c: T, a: &ArrayRef<T, D>) -> Array<T, D> {
    a.mapv(|a| c / a)
}

/// A 0-d array holding `c`, for a constant that meets a broadcasting op.
pub fn scalar<T: Real>(c: T) -> ndarray::Array0<T> {
    ndarray::arr0(c)
}

/// The mask `a <cmp> b` with broadcasting.
pub fn compare<T: Real, D1, D2>(
    a: &ArrayRef<T, D1>,
    b: &ArrayRef<T, D2>,
    cmp: Compare,
    site: &Site,
) -> Array<bool, Broadcast<D1, D2>>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    zip_broadcast(a, b, site, |a, b| match cmp {
        Compare::Gt => a > b,
        Compare::Ge => a >= b,
        Compare::Lt => a < b,
        Compare::Le => a <= b,
        Compare::Eq => a == b,
        Compare::Ne => a != b,
    })
}

/// `a` where `mask` holds, else `b`, all three broadcast together.
pub fn where_<T: Real, DM, D1, D2>(
    mask: &ArrayRef<bool, DM>,
    a: &ArrayRef<T, D1>,
    b: &ArrayRef<T, D2>,
    site: &Site,
) -> Array<T, Broadcast<DM, Broadcast<D1, D2>>>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
    DM: Dimension + DimMax<Broadcast<D1, D2>>,
{
    let (av, bv) = co_broadcast(a, b, site);
    let dim = broadcast_mask_dims(&mask.raw_dim(), &av.raw_dim(), site);
    let m = mask.broadcast(dim.clone()).expect("checked above");
    let av = av.broadcast(dim.clone()).expect("checked above");
    let bv = bv.broadcast(dim).expect("checked above");
    Zip::from(&m)
        .and(&av)
        .and(&bv)
        .map_collect(|&m, &a, &b| if m { a } else { b })
}

/// `g` where `mask` holds, else 0; with `keep = false`, the other way round.
/// The gradient of `where_(mask, a, b)` for `a` (keep) and for `b` (not keep).
pub fn mask_grad<T: Real, DM, D>(
    mask: &ArrayRef<bool, DM>,
    g: &ArrayRef<T, D>,
    keep: bool,
) -> Array<T, D>
where
    DM: Dimension,
    D: Dimension,
{
    let m = mask.broadcast(g.raw_dim()).unwrap_or_else(|| {
        Site::internal("where_").shape_mismatch(
            mask.shape(),
            g.shape(),
            "mask and gradient disagree",
        )
    });
    Zip::from(&m)
        .and(g)
        .map_collect(|&m, &g| if m == keep { g } else { T::zero() })
}

/// Sums `g` down to `shape`: the backward of broadcasting. Leading axes that
/// broadcasting added are summed away; axes where `shape` has length 1 are
/// summed and kept.
///
/// # Panics
/// If `shape` does not broadcast to the shape of `g`.
pub fn sum_to<T: Real, D: Dimension, E: Dimension>(g: &ArrayRef<T, D>, shape: E) -> Array<T, E> {
    let target = shape.slice().to_vec();
    if g.shape() == target.as_slice() {
        return with_dim(g.to_owned().into_dyn());
    }
    if broadcast_shape(g.shape(), &target).as_deref() != Some(g.shape()) {
        Site::internal("sum_to").shape_mismatch(
            g.shape(),
            &target,
            "the gradient does not cover the operand's shape",
        )
    }
    let lead = g.ndim() - target.len();
    // Only leading axes to sum (a bias gradient): add rows into the result,
    // without copying `g` (contiguous `g` only, the layout that path reads).
    if lead > 0 && g.shape()[lead..] == target[..] && g.is_standard_layout() {
        let mut acc = Array::zeros(shape);
        crate::accumulate_to(&mut acc, g);
        return acc;
    }
    let mut acc = g.to_owned().into_dyn();
    for _ in 0..lead {
        acc = acc.sum_axis(Axis(0));
    }
    for (axis, &len) in target.iter().enumerate() {
        if len == 1 && acc.shape()[axis] != 1 {
            acc = acc.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    with_dim(acc)
}

/// [`sum_to`] of an array the caller no longer needs: where the shapes are
/// equal (the common case), `g` itself is returned and nothing is copied.
///
/// # Panics
/// If `shape` does not broadcast to the shape of `g`.
pub fn sum_to_owned<T: Real, D: Dimension, E: Dimension>(g: Array<T, D>, shape: E) -> Array<T, E> {
    if g.shape() == shape.slice() {
        return with_dim(g.into_dyn());
    }
    sum_to(&g, shape)
}

/// [`sum_to`] that borrows `g` when it has the target's shape already (a bias
/// gradient whose shapes only run time knows are equal), instead of copying it.
pub fn sum_to_cow<'a, T: Real, D: Dimension, E: Dimension>(
    g: &'a ArrayRef<T, D>,
    shape: E,
) -> CowArray<'a, T, E> {
    if g.shape() == shape.slice()
        && let Ok(view) = g.view().into_dimensionality::<E>()
    {
        return CowArray::from(view);
    }
    CowArray::from(sum_to(g, shape))
}

/// An array whose shape is already the target's, in the target's dimension type.
/// Unlike a reshape, this keeps any memory layout (a transposed gradient is
/// column-major, which `into_shape_with_order` rejects).
fn with_dim<T: Real, E: Dimension>(a: Array<T, IxDyn>) -> Array<T, E> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<E>().unwrap_or_else(|_| {
        Site::internal("sum_to").shape_mismatch(&shape, &[], "the rank differs from the target's")
    })
}

/// `g` stretched to `shape` by broadcasting (the backward of a full reduction).
///
/// # Panics
/// If `g` does not broadcast to `shape`.
pub fn broadcast_to<T: Real, D: Dimension, E: Dimension>(
    g: &ArrayRef<T, D>,
    shape: E,
) -> Array<T, E> {
    match g.broadcast(shape.clone()) {
        Some(v) => v.to_owned(),
        None => Site::internal("broadcast_to").shape_mismatch(
            g.shape(),
            shape.slice(),
            "cannot broadcast",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Ix1, Ix2, array};

    const SITE: Site = Site::internal("test");

    #[test]
    fn broadcast_shapes_follow_numpy() {
        assert_eq!(broadcast_shape(&[3, 4], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shape(&[3, 1], &[1, 4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shape(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast_shape(&[3, 4], &[3]), None);
    }

    #[test]
    fn add_broadcasts_row_column_and_scalar() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        assert_eq!(
            add(&a, &array![10.0, 20.0], &SITE),
            array![[11.0, 22.0], [13.0, 24.0]]
        );
        assert_eq!(
            add(&a, &array![[10.0], [20.0]], &SITE),
            array![[11.0, 12.0], [23.0, 24.0]]
        );
        assert_eq!(
            add(&a, &ndarray::arr0(1.0), &SITE),
            array![[2.0, 3.0], [4.0, 5.0]]
        );
        assert_eq!(
            add(&array![[1.0], [2.0]], &array![10.0, 20.0], &SITE),
            array![[11.0, 21.0], [12.0, 22.0]]
        );
    }

    #[test]
    fn shape_mismatch_names_op_expression_and_shapes() {
        let site = Site {
            op: "add",
            expr: "x + b",
            file: "layer.rs",
            line: 7,
            column: 9,
        };
        let err = std::panic::catch_unwind(|| {
            add(
                &ndarray::Array2::<f64>::zeros((2, 3)),
                &ndarray::Array1::zeros(2),
                &site,
            )
        })
        .expect_err("must panic");
        let msg = err.downcast_ref::<String>().expect("a formatted message");
        assert!(
            msg.contains("`add`") && msg.contains("x + b") && msg.contains("layer.rs:7:9"),
            "{msg}"
        );
        assert!(msg.contains("[2, 3]") && msg.contains("[2]"), "{msg}");
    }

    #[test]
    fn elementwise_binaries_match_plain_loops() {
        let a = array![[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]];
        let b = array![0.5, -3.0, 4.0];
        let naive = |f: fn(f64, f64) -> f64| {
            ndarray::Array2::from_shape_fn((2, 3), |(i, j)| f(a[[i, j]], b[j]))
        };
        assert_eq!(sub(&a, &b, &SITE), naive(|x, y| x - y));
        assert_eq!(mul(&a, &b, &SITE), naive(|x, y| x * y));
        assert_eq!(div(&a, &b, &SITE), naive(|x, y| x / y));
        assert_eq!(maximum(&a, &b, &SITE), naive(f64::max));
        assert_eq!(minimum(&a, &b, &SITE), naive(f64::min));
        assert_eq!(
            mask_ge(&a, &b, &SITE),
            naive(|x, y| f64::from(u8::from(x >= y)))
        );
    }

    /// A transposed (column-major) gradient used to panic in `sum_to`'s reshape.
    #[test]
    fn sum_to_takes_gradients_of_any_layout() {
        let g = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let gt = g.t();
        assert_eq!(sum_to(&gt, Ix2(3, 2)), gt);
        assert_eq!(sum_to(&gt, Ix2(1, 2)), array![[6.0, 15.0]]);
        assert_eq!(sum_to(&gt, Ix1(2)), array![6.0, 15.0]);
    }

    #[test]
    fn sum_to_cow_borrows_equal_shapes_and_reduces_others() {
        let g = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
        let same = sum_to_cow(&g, g.raw_dim());
        assert!(same.is_view(), "an equal shape is borrowed, not copied");
        assert_eq!(same, g);
        let row = sum_to_cow(&g, ndarray::Ix2(1, 2));
        assert!(row.is_owned());
        assert_eq!(row, ndarray::array![[4.0, 6.0]]);
    }

    #[test]
    fn sum_to_undoes_broadcasting() {
        let g = array![[1.0, 2.0], [3.0, 4.0]];
        assert_eq!(sum_to(&g, Ix1(2)), array![4.0, 6.0]);
        assert_eq!(sum_to(&g, Ix2(2, 1)), array![[3.0], [7.0]]);
        assert_eq!(sum_to(&g, ndarray::Ix0()), ndarray::arr0(10.0));
        assert_eq!(sum_to(&g, Ix2(2, 2)), g);
    }

    #[test]
    fn where_and_mask_grad() {
        let a = array![1.0, -2.0, 3.0];
        let m = compare(&a, &ndarray::arr0(0.0), Compare::Gt, &SITE);
        assert_eq!(
            where_(&m, &a, &ndarray::arr0(0.0), &SITE),
            array![1.0, 0.0, 3.0]
        );
        assert_eq!(
            mask_grad(&m, &array![5.0, 6.0, 7.0], true),
            array![5.0, 0.0, 7.0]
        );
        assert_eq!(
            mask_grad(&m, &array![5.0, 6.0, 7.0], false),
            array![0.0, 6.0, 0.0]
        );
    }
}
