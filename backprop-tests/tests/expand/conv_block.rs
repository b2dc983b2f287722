use backprop::prelude::*;

/// A convolution block: 3x3 convolution with padding, a per-channel bias, ReLU, 2x2 max-pooling.
#[differentiable]
pub fn conv_block<T: Real>(x: ArrayView4<T>, w: ArrayView4<T>, b: ArrayView1<T>) -> Array4<T> {
    let bias = b.insert_axis(Axis(1)).insert_axis(Axis(2));
    let z = conv2d(x, w, 1, 1) + &bias;
    max_pool2(relu(z))
}
