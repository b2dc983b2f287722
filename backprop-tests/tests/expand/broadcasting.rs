use backprop::prelude::*;

/// Every broadcasting form: row vector, column vector, scalar input, literal, both sides.
#[differentiable]
pub fn broadcasting<T: Real>(
    x: ArrayView2<T>,
    row: ArrayView1<T>,
    col: ArrayView2<T>,
    scale: T,
) -> Array2<T> {
    let shifted = x + &row - &col;
    let both = &col * &row;
    shifted * scale / (both.square() + 1.0)
}
