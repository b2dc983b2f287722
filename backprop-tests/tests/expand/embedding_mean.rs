use backprop::prelude::*;

/// Mean of looked-up embedding rows, then a linear read-out: row lookup with scatter-add backward.
#[differentiable]
pub fn embedding_mean<T: Real>(table: ArrayView2<T>, ids: ArrayView1<usize>, w: ArrayView1<T>) -> T {
    let rows = rows(table, &ids);
    rows.mean_axis(Axis(0)).dot(&w)
}
