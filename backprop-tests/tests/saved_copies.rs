//! What `NAME_train` keeps of its inputs and outputs: a copy that stands
//! alone (the caller may change or drop the arrays afterwards), shared between
//! the `Saved`s of calls given the same values, as the loop over time steps
//! of an RNN gives the same weights at every step and each step's output as
//! the next step's input.

use backprop::prelude::*;
use ndarray::Array2;

/// One step of an RNN, as a user writes it.
#[differentiable(check(x = [3, 2], h_prev = [3, 4], wx = [2, 4], wh = [4, 4], b = [4]))]
pub fn step<T: Real>(
    #[no_grad] x: ArrayView2<T>,
    h_prev: ArrayView2<T>,
    wx: ArrayView2<T>,
    wh: ArrayView2<T>,
    b: ArrayView1<T>,
) -> Array2<T> {
    tanh(x.dot(&wx) + h_prev.dot(&wh) + &b)
}

/// `x`, `h0`, `wx`, `wh` and `b`.
type Data = (
    Array2<f64>,
    Array2<f64>,
    Array2<f64>,
    Array2<f64>,
    ndarray::Array1<f64>,
);

fn data(seed: u64) -> Data {
    let mut rng = backprop::SeededRng::new(seed);
    (
        backprop::init::normal((3, 2), 1.0, &mut rng),
        backprop::init::normal((3, 4), 1.0, &mut rng),
        backprop::init::normal((2, 4), 0.5, &mut rng),
        backprop::init::normal((4, 4), 0.5, &mut rng),
        backprop::init::normal(4, 0.1, &mut rng),
    )
}

#[test]
fn a_loop_over_time_steps_keeps_one_copy_of_the_weights_and_of_each_state() {
    let (x, h0, wx, wh, b) = data(1);
    let mut h = h0.clone();
    let mut saved = Vec::new();
    for _ in 0..4 {
        let (next, s) = step_train(x.view(), h.view(), wx.view(), wh.view(), b.view());
        saved.push(s);
        h = next;
    }
    for pair in saved.windows(2) {
        // The weights: one copy for every step.
        assert_eq!(pair[0].wh.as_ptr(), pair[1].wh.as_ptr());
        // The state a step produced is the one the next step was given.
        assert_eq!(pair[0].out.as_ptr(), pair[1].h_prev.as_ptr());
    }
    // And never the caller's own memory.
    assert_ne!(saved[0].wh.as_ptr(), wh.as_ptr());
    assert_eq!(*saved[3].wh, wh);
}

#[test]
fn an_input_changed_after_its_call_leaves_that_calls_backward_as_it_was() {
    let (x, h0, wx, mut wh, b) = data(2);
    let d_out = Array2::<f64>::ones((3, 4));
    let (_, before) = step_train(x.view(), h0.view(), wx.view(), wh.view(), b.view());
    let expected = step_backward(&before, d_out.view());
    // The weights change in place (an optimizer step) while `before` is held,
    // and a second call with the same memory must not see the old values...
    let old = wh.clone();
    wh.mapv_inplace(|w| w * 0.5 + 0.25);
    let (_, after) = step_train(x.view(), h0.view(), wx.view(), wh.view(), b.view());
    assert_eq!(*after.wh, wh);
    assert_ne!(before.wh.as_ptr(), after.wh.as_ptr());
    // ...nor the first call the new ones.
    assert_eq!(*before.wh, old);
    let again = step_backward(&before, d_out.view());
    assert_eq!(again.h_prev, expected.h_prev);
    assert_eq!(again.wh, expected.wh);
    // The second call's gradient is that of the new weights: the same as a
    // fresh copy of them gives.
    let fresh = wh.clone();
    let (_, reference) = step_train(x.view(), h0.view(), wx.view(), fresh.view(), b.view());
    assert_eq!(
        step_backward(&after, d_out.view()).h_prev,
        step_backward(&reference, d_out.view()).h_prev
    );
}

#[test]
fn a_saved_copy_outlives_the_array_it_was_made_from() {
    let (x, h0, wx, wh, b) = data(3);
    let d_out = Array2::<f64>::ones((3, 4));
    let (_, kept) = step_train(x.view(), h0.view(), wx.view(), wh.view(), b.view());
    let expected = step_backward(&kept, d_out.view());
    let (_, shared) = step_train(x.view(), h0.view(), wx.view(), wh.view(), b.view());
    assert_eq!(kept.wh.as_ptr(), shared.wh.as_ptr());
    // The weights are dropped, and an array of other values of the same size
    // (which the allocator may put at the same address) is saved: it gets a
    // copy of its own values, and the earlier `Saved`s keep theirs.
    drop(wh);
    let other = Array2::from_elem((4, 4), 9.0f64);
    let (_, third) = step_train(x.view(), h0.view(), wx.view(), other.view(), b.view());
    assert_eq!(*third.wh, other);
    assert_ne!(third.wh.as_ptr(), kept.wh.as_ptr());
    assert_eq!(step_backward(&kept, d_out.view()).wh, expected.wh);
    assert_eq!(step_backward(&shared, d_out.view()).wh, expected.wh);
}

#[test]
fn a_saved_state_crosses_threads_and_computes_the_same_there() {
    fn send_and_sync<S: Send + Sync + Clone>(_: &S) {}
    let (x, h0, wx, wh, b) = data(4);
    let d_out = Array2::<f64>::ones((3, 4));
    let (_, saved) = step_train(x.view(), h0.view(), wx.view(), wh.view(), b.view());
    send_and_sync(&saved);
    let here = step_backward(&saved, d_out.view());
    // A clone shares the copies; both run on another thread, and are dropped there.
    let clone = saved.clone();
    assert_eq!(clone.wh.as_ptr(), saved.wh.as_ptr());
    let there = std::thread::spawn(move || {
        let g = step_backward(&clone, Array2::<f64>::ones((3, 4)).view());
        drop(clone);
        g
    })
    .join()
    .expect("the backward runs on another thread");
    assert_eq!(there.wh, here.wh);
    assert_eq!(there.h_prev, here.h_prev);
    assert_eq!(step_backward(&saved, d_out.view()).wh, here.wh);
}
