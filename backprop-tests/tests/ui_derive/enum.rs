use backprop::prelude::*;

#[derive(Parameters)]
enum Layer<T: Real> {
    Dense(Param<T, Ix2>),
    Identity,
}

fn main() {}
