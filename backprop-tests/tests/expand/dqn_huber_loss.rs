use backprop::prelude::*;

/// The DQN loss done right: Q of the taken actions, then the Huber loss of the TD error.
#[differentiable]
pub fn dqn_huber_loss<T: Real>(
    s: ArrayView2<T>,
    w1: ArrayView2<T>,
    b1: ArrayView1<T>,
    w2: ArrayView2<T>,
    b2: ArrayView1<T>,
    actions: ArrayView1<usize>,
    #[no_grad] target: ArrayView1<T>,
) -> T {
    let h = relu(s.dot(&w1) + &b1);
    let q = h.dot(&w2) + &b2;
    let q_taken = pick(q, &actions);
    huber(target - q_taken, 1.0).mean()
}
