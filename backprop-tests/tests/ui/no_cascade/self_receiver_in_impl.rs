//! A method with `self` reports only the macro's error, and other methods and
//! calls of the method still compile.
use backprop::prelude::*;

pub struct Net {
    pub scale: f64,
}

impl Net {
    #[differentiable]
    pub fn forward(&self, x: ArrayView2<f64>) -> Array2<f64> {
        x * 2.0
    }

    pub fn twice(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let y = self.forward(x);
        self.forward(y.view())
    }
}

fn main() {
    let net = Net { scale: 1.0 };
    let _ = net.twice(Array2::zeros((1, 1)).view());
}
