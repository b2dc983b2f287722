//! Optimizer state kept per parameter name, and its conversion to and from the named
//! tensors of [`Optimizer::state`](super::Optimizer::state).

use std::collections::{BTreeMap, BTreeSet};

use ndarray::ArrayD;

use super::OptimStateError;
use crate::Real;

/// `N` tensors per parameter (`["m", "v"]` for Adam), each of the parameter's shape,
/// created as zeros the first time the parameter is stepped.
///
/// They are saved as `{optimizer}.{slot}.{parameter}`, for example `adam.m.fc1.w`.
#[derive(Clone, Debug)]
pub(super) struct PerParam<T, const N: usize> {
    optimizer: &'static str,
    slots: [&'static str; N],
    by_param: BTreeMap<String, [ArrayD<T>; N]>,
}

impl<T: Real, const N: usize> PerParam<T, N> {
    /// No state yet, for the given optimizer and slot names.
    pub(super) fn new(optimizer: &'static str, slots: [&'static str; N]) -> Self {
        PerParam {
            optimizer,
            slots,
            by_param: BTreeMap::new(),
        }
    }

    /// The state of parameter `name`, zeros of `shape` on first use.
    ///
    /// # Panics
    /// If the state exists with another shape: the parameter changed shape, or the
    /// loaded state belongs to another model.
    pub(super) fn get(&mut self, name: &str, shape: &[usize]) -> &mut [ArrayD<T>; N] {
        let state = self
            .by_param
            .entry(name.to_owned())
            .or_insert_with(|| std::array::from_fn(|_| ArrayD::zeros(shape)));
        if let Some(existing) = state.iter().find(|s| s.shape() != shape) {
            panic!(
                "parameter `{name}` has shape {shape:?}, but its {} optimizer state has shape {:?}; \
                 a parameter cannot change shape between steps",
                self.optimizer,
                existing.shape()
            );
        }
        state
    }

    /// The saved name of one tensor.
    fn key(&self, slot: &str, param: &str) -> String {
        format!("{}.{slot}.{param}", self.optimizer)
    }

    /// The parameter a saved name belongs to, if it is one of this state's.
    fn param_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        let rest = key.strip_prefix(self.optimizer)?.strip_prefix('.')?;
        let (slot, param) = rest.split_once('.')?;
        self.slots.contains(&slot).then_some(param)
    }

    /// Appends every tensor with its saved name.
    pub(super) fn save_into(&self, out: &mut Vec<(String, ArrayD<T>)>) {
        for (param, tensors) in &self.by_param {
            for (slot, tensor) in self.slots.iter().zip(tensors) {
                out.push((self.key(slot, param), tensor.clone()));
            }
        }
    }

    /// The state of the same optimizer and slots held in `reader`, which must have
    /// all the slots of a parameter, of one shape.
    pub(super) fn read(&self, reader: &mut StateReader<T>) -> Result<Self, OptimStateError> {
        let params: BTreeSet<String> = reader
            .tensors
            .keys()
            .filter_map(|key| self.param_of(key))
            .map(str::to_owned)
            .collect();
        let mut by_param = BTreeMap::new();
        for param in params {
            let keys = self.slots.map(|slot| self.key(slot, &param));
            let mut tensors = Vec::with_capacity(N);
            for key in &keys {
                tensors.push(reader.take(key)?);
            }
            let shape = tensors[0].shape();
            if let Some((key, odd)) = keys.iter().zip(&tensors).find(|(_, t)| t.shape() != shape) {
                return Err(OptimStateError::Shape {
                    name: key.clone(),
                    shape: odd.shape().to_vec(),
                    expected: format!("{shape:?}, the shape of `{}`", keys[0]),
                });
            }
            let tensors = tensors.try_into().expect("one tensor per slot");
            by_param.insert(param, tensors);
        }
        Ok(PerParam {
            optimizer: self.optimizer,
            slots: self.slots,
            by_param,
        })
    }
}

/// A step counter as a 0-d tensor.
pub(super) fn step_count_tensor<T: Real>(count: u64) -> ArrayD<T> {
    ArrayD::from_elem(vec![], T::lit(count as f64))
}

/// The tensors given to `load_state`, by name. Each part of an optimizer takes its
/// own; any left over is an error.
pub(super) struct StateReader<T> {
    tensors: BTreeMap<String, ArrayD<T>>,
}

impl<T: Real> StateReader<T> {
    /// Indexes the tensors by name.
    pub(super) fn new(state: Vec<(String, ArrayD<T>)>) -> Result<Self, OptimStateError> {
        let mut tensors = BTreeMap::new();
        for (name, tensor) in state {
            if tensors.contains_key(&name) {
                return Err(OptimStateError::Duplicate(name));
            }
            tensors.insert(name, tensor);
        }
        Ok(StateReader { tensors })
    }

    /// Removes and returns the tensor `name`.
    fn take(&mut self, name: &str) -> Result<ArrayD<T>, OptimStateError> {
        self.tensors
            .remove(name)
            .ok_or_else(|| OptimStateError::Missing(name.to_owned()))
    }

    /// Removes and returns the step counter `name`: one whole non-negative number,
    /// 0-d or of shape `[1]`.
    pub(super) fn take_step_count(&mut self, name: &str) -> Result<u64, OptimStateError> {
        let tensor = self.take(name)?;
        let value = match tensor.shape() {
            [] | [1] => tensor.iter().next().expect("one element").to_f64_lossy(),
            shape => {
                return Err(OptimStateError::Shape {
                    name: name.to_owned(),
                    shape: shape.to_vec(),
                    expected: "[] or [1]".to_owned(),
                });
            }
        };
        if value >= 0.0 && value.fract() == 0.0 {
            Ok(value as u64)
        } else {
            Err(OptimStateError::InvalidStepCount {
                name: name.to_owned(),
                value,
            })
        }
    }

    /// Succeeds if every tensor was taken.
    pub(super) fn finish(self) -> Result<(), OptimStateError> {
        match self.tensors.into_keys().next() {
            Some(name) => Err(OptimStateError::Unexpected(name)),
            None => Ok(()),
        }
    }
}
