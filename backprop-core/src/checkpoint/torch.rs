//! Checkpoints in PyTorch's layout: a model's parameters under the names and
//! shapes a PyTorch `state_dict` gives them, so that
//! `model.load_state_dict(safetensors.torch.load_file(path))` reads what
//! [`save_torch`] writes, and [`load_torch`] reads what
//! `safetensors.torch.save_file(model.state_dict(), path)` writes.
//!
//! A parameter's last name segment maps to PyTorch's, and a matrix of ours
//! (`[in, out]`, as `x.dot(&w)` takes it) is PyTorch's transpose (`nn.Linear`
//! stores `[out, in]` for `x @ weight.T`):
//!
//! | ours | PyTorch | layout |
//! | --- | --- | --- |
//! | `fc1.w` (2-D) | `fc1.weight` | transposed |
//! | `conv.w` (4-D `[out, in, kh, kw]`) | `conv.weight` | as is |
//! | `fc1.b` | `fc1.bias` | as is |
//! | `bn.gamma`, `bn.beta` | `bn.weight`, `bn.bias` | as is |
//! | `emb.table` | `emb.weight` | as is |
//! | `bn.running_mean`, `bn.running_var` | the same | as is |
//!
//! Other names are kept. Loading accepts `F32` and `F64` tensors whatever the
//! model's float type (PyTorch saves `F32`), ignores PyTorch's
//! `num_batches_tracked` counters, and is all or nothing like
//! [`load_checkpoint`](super::load_checkpoint): every tensor is checked before
//! the model changes, and errors name tensors and shapes as the file has them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};

use super::{
    CheckpointError, LoadOptions, Tensor, check_finite, decode_as, io_error, read_tensors,
    visit_all, write_atomically, write_values,
};
use crate::{Parameters, Real};

/// PyTorch's name for a parameter of ours of rank `rank`, and whether its
/// layout is our layout transposed.
pub fn torch_name(name: &str, rank: usize) -> (String, bool) {
    let (prefix, last) = match name.rsplit_once('.') {
        Some((prefix, last)) => (Some(prefix), last),
        None => (None, name),
    };
    let (last, transposed) = match last {
        "w" => ("weight", rank == 2),
        "b" => ("bias", false),
        "gamma" | "table" => ("weight", false),
        "beta" => ("bias", false),
        other => (other, false),
    };
    let name = match prefix {
        Some(prefix) => format!("{prefix}.{last}"),
        None => last.to_owned(),
    };
    (name, transposed)
}

/// Writes every parameter and buffer of `model` to `path` in PyTorch's names
/// and layout, in the model's float type, atomically (as
/// [`save_checkpoint`](super::save_checkpoint)).
pub fn save_torch<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
) -> Result<(), CheckpointError> {
    let mut tensors = Vec::new();
    visit_all(model, &mut |name, value| {
        let (torch, transposed) = torch_name(name, value.ndim());
        let value = if transposed {
            value.t().as_standard_layout().into_owned()
        } else {
            value.to_owned()
        };
        tensors.push((torch, Tensor::new(&value)));
    });
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(tensors.len());
    for (name, tensor) in tensors {
        if !seen.insert(name.clone()) {
            return Err(CheckpointError::InvalidName {
                name,
                reason: "two parameters map to this PyTorch name",
            });
        }
        checked.push((name, tensor?));
    }
    let bytes = safetensors::serialize(checked, None)
        .map_err(|e| CheckpointError::Safetensors(e.to_string()))?;
    write_atomically(path, |file| std::io::Write::write_all(file, &bytes))
}

/// Loads every parameter and buffer of `model` from a file in PyTorch's names
/// and layout (a `state_dict` saved with `safetensors.torch.save_file`).
///
/// All or nothing: on error the model is unchanged. Tensors with NaN or
/// infinite values are refused unless `options` allow them.
pub fn load_torch<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    options: &LoadOptions,
) -> Result<(), CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    let file = read_tensors(&bytes)?;
    let by_name: HashMap<&str, _> = file.tensors.iter().map(|t| (t.name.as_str(), t)).collect();

    let mut wanted = Vec::new();
    visit_all(model, &mut |name, value| {
        wanted.push((name.to_owned(), value.shape().to_vec()));
    });
    let mut values: HashMap<String, ArrayD<T>> = HashMap::new();
    let mut used = HashSet::new();
    for (name, shape) in wanted {
        let (torch, transposed) = torch_name(&name, shape.len());
        let expected: Vec<usize> = if transposed {
            shape.iter().rev().copied().collect()
        } else {
            shape.clone()
        };
        let tensor = by_name
            .get(torch.as_str())
            .ok_or_else(|| CheckpointError::MissingTensor(torch.clone()))?;
        if tensor.shape != expected {
            return Err(CheckpointError::WrongShape {
                name: torch,
                expected,
                found: tensor.shape.clone(),
            });
        }
        let array = ArrayD::from_shape_vec(IxDyn(&tensor.shape), decode_as::<T>(tensor)?)
            .map_err(|e| CheckpointError::Header(format!("tensor `{torch}`: {e}")))?;
        check_finite(&torch, &array, options)?;
        let array = if transposed {
            array.t().as_standard_layout().into_owned()
        } else {
            array
        };
        used.insert(torch);
        values.insert(name, array);
    }
    for tensor in &file.tensors {
        let counter = tensor.name.ends_with("num_batches_tracked");
        if !counter && !used.contains(tensor.name.as_str()) {
            return Err(CheckpointError::UnexpectedTensor(tensor.name.clone()));
        }
    }
    write_values(model, &values);
    Ok(())
}
