use backprop::prelude::*;

struct Plain<T> {
    scale: T,
}

#[derive(Parameters)]
struct Block<T: Real> {
    w: Param<T, Ix2>,
    #[param(nested)]
    inner: Plain<T>,
}

fn main() {}
