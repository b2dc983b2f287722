//! `#[no_grad]` on a float input, integer inputs used with `pick` and `rows`:
//! only the float inputs that take a gradient get one.
use backprop::prelude::*;
use backprop::{DynValue, GradCheck, check_function};
use ndarray::array;

#[differentiable]
pub fn q_loss<T: Real>(
    q: ArrayView2<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
    table: ArrayView2<T>,
    ids: ArrayView1<usize>,
) -> T {
    let chosen = pick(q, &actions);
    let td = chosen - &target;
    let emb = rows(table, &ids);
    square(td).mean() + emb.sum()
}

fn main() {
    let q = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let actions = array![2usize, 0];
    let target = array![2.5, 3.0];
    let table = array![[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]];
    let ids = array![1usize, 1, 2];
    let (loss, saved) = q_loss_train(q.view(), actions.view(), target.view(), table.view(), ids.view());
    assert!((loss - (0.25f64 + 1.0) / 2.0 - 2.5).abs() < 1e-12);
    let grads = q_loss_backward(&saved, 1.0);
    assert_eq!(grads.q, array![[0.0, 0.0, 0.5], [1.0, 0.0, 0.0]]);
    assert_eq!(grads.table, array![[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]]);
    let inputs = [
        DynValue::Float(q.into_dyn()),
        DynValue::Int(actions.into_dyn()),
        DynValue::Float(target.into_dyn()),
        DynValue::Float(table.into_dyn()),
        DynValue::Int(ids.into_dyn()),
    ];
    check_function(&q_loss_dyn::<f64>(), &inputs, &GradCheck::default()).assert_passed();
}
