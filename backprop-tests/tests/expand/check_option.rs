use backprop::prelude::*;

/// `check(..)`: the emitted gradient test, under `cfg(test)`.
#[differentiable(check(x = [4, 3], labels = [4] < 3))]
pub fn loss<T: Real>(x: ArrayView2<T>, labels: ArrayView1<usize>) -> T {
    -pick(log_softmax(x, Axis(1)), &labels).mean()
}
