use backprop::prelude::*;

#[derive(Parameters)]
struct Dense<T: Real>(Param<T, Ix2>, Param<T, Ix1>);

fn main() {}
