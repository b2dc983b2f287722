//! Convolution, 2x2 max-pooling and flattening for image batches laid out
//! `[batch, channels, height, width]`. The convolution is im2col + one matrix
//! product; its two derivative kernels are products too.

use ndarray::{Array, Array2, Array4, ArrayRef, ArrayRef4, Dimension, Ix2, Ix4};

use crate::{Real, Site};

/// The output size of a convolution along one axis.
fn out_len(len: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    let padded = len + 2 * pad;
    (stride > 0 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

struct Geometry {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    stride: usize,
    pad: usize,
}

fn geometry(x: &[usize], w: &[usize], stride: usize, pad: usize, site: &Site) -> Geometry {
    let (n, c, h, wd) = (x[0], x[1], x[2], x[3]);
    let (kc, kh, kw) = (w[1], w[2], w[3]);
    if kc != c {
        site.shape_mismatch(
            x,
            w,
            "the kernel's input channels (axis 1) differ from the image's channels (axis 1)",
        )
    }
    match (out_len(h, kh, stride, pad), out_len(wd, kw, stride, pad)) {
        (Some(oh), Some(ow)) => Geometry {
            n,
            c,
            h,
            w: wd,
            kh,
            kw,
            oh,
            ow,
            stride,
            pad,
        },
        _ => site.shape_mismatch(
            x,
            w,
            "the kernel is larger than the padded image, or the stride is 0",
        ),
    }
}

impl Geometry {
    /// Calls `f(row, col, [b, c, y, x])` for every element of the im2col matrix
    /// (`[n * oh * ow, c * kh * kw]`) whose window position falls inside the image;
    /// positions in the padding are skipped (they are zeros).
    fn for_each_patch_element(&self, mut f: impl FnMut(usize, usize, [usize; 4])) {
        for row in 0..self.n * self.oh * self.ow {
            let (b, rest) = (row / (self.oh * self.ow), row % (self.oh * self.ow));
            let (oy, ox) = (rest / self.ow, rest % self.ow);
            for ci in 0..self.c {
                for ky in 0..self.kh {
                    for kx in 0..self.kw {
                        let y = (oy * self.stride + ky)
                            .checked_sub(self.pad)
                            .filter(|&y| y < self.h);
                        let x = (ox * self.stride + kx)
                            .checked_sub(self.pad)
                            .filter(|&x| x < self.w);
                        if let (Some(y), Some(x)) = (y, x) {
                            f(row, (ci * self.kh + ky) * self.kw + kx, [b, ci, y, x]);
                        }
                    }
                }
            }
        }
    }
}

/// Patches of `x` as rows: `[n * oh * ow, c * kh * kw]`, zeros where the window covers padding.
fn im2col<T: Real>(x: &ArrayRef4<T>, g: &Geometry) -> Array2<T> {
    let mut cols = Array2::zeros((g.n * g.oh * g.ow, g.c * g.kh * g.kw));
    g.for_each_patch_element(|row, col, at| cols[[row, col]] = x[at]);
    cols
}

/// The inverse scatter of [`im2col`]: adds each patch row back into its window.
fn col2im<T: Real>(cols: &Array2<T>, g: &Geometry) -> Array4<T> {
    let mut x = Array4::zeros((g.n, g.c, g.h, g.w));
    g.for_each_patch_element(|row, col, at| x[at] += cols[[row, col]]);
    x
}

fn weight_matrix<T: Real>(w: &ArrayRef4<T>) -> Array2<T> {
    let f = w.shape()[0];
    let rest = w.len() / f.max(1);
    w.as_standard_layout()
        .into_owned()
        .into_shape_with_order(Ix2(f, rest))
        .expect("contiguous")
}

/// `[n * oh * ow, f]` (one row per output position) from and to `[n, f, oh, ow]`.
fn rows_to_image<T: Real>(m: Array2<T>, g: &Geometry) -> Array4<T> {
    let f = m.ncols();
    let m = m
        .into_shape_with_order(Ix4(g.n, g.oh, g.ow, f))
        .expect("one row per output position");
    m.permuted_axes([0, 3, 1, 2])
        .as_standard_layout()
        .into_owned()
}

fn image_to_rows<T: Real>(img: &ArrayRef4<T>) -> Array2<T> {
    let (n, f, oh, ow) = img.dim();
    let v = img.view().permuted_axes([0, 2, 3, 1]);
    v.as_standard_layout()
        .into_owned()
        .into_shape_with_order(Ix2(n * oh * ow, f))
        .expect("contiguous")
}

/// 2-D cross-correlation of `x` `[n, c, h, w]` with kernels `w` `[f, c, kh, kw]`,
/// with `stride` and zero `pad`ding on every side: `[n, f, oh, ow]`.
pub fn conv2d<T: Real>(
    x: &ArrayRef4<T>,
    w: &ArrayRef4<T>,
    stride: usize,
    pad: usize,
    site: &Site,
) -> Array4<T> {
    let g = geometry(x.shape(), w.shape(), stride, pad, site);
    let cols = im2col(x, &g);
    rows_to_image(cols.dot(&weight_matrix(w).t()), &g)
}

/// Derivative of [`conv2d`] with respect to `x`: the gradient scattered back
/// through the kernels, `col2im(G W)`.
pub fn conv2d_backward_input<T: Real>(
    g: &ArrayRef4<T>,
    w: &ArrayRef4<T>,
    x_shape: Ix4,
    stride: usize,
    pad: usize,
) -> Array4<T> {
    let site = Site::internal("conv2d_backward_input");
    let geo = geometry(x_shape.slice(), w.shape(), stride, pad, &site);
    col2im(&image_to_rows(g).dot(&weight_matrix(w)), &geo)
}

/// Derivative of [`conv2d`] with respect to `w`: `G^T im2col(x)`, reshaped to the kernel.
pub fn conv2d_backward_weight<T: Real>(
    g: &ArrayRef4<T>,
    x: &ArrayRef4<T>,
    w_shape: Ix4,
    stride: usize,
    pad: usize,
) -> Array4<T> {
    let site = Site::internal("conv2d_backward_weight");
    let geo = geometry(x.shape(), w_shape.slice(), stride, pad, &site);
    let d_w = image_to_rows(g).t().dot(&im2col(x, &geo));
    d_w.into_shape_with_order(w_shape)
        .expect("one row per kernel")
}

/// 2x2 max-pooling with stride 2 over the last two axes (odd trailing rows and columns are dropped).
pub fn max_pool2<T: Real>(x: &ArrayRef4<T>) -> Array4<T> {
    let (n, c, h, w) = x.dim();
    Array4::from_shape_fn((n, c, h / 2, w / 2), |(b, ch, i, j)| {
        let at = |di: usize, dj: usize| x[[b, ch, 2 * i + di, 2 * j + dj]];
        at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1))
    })
}

/// Derivative of [`max_pool2`]: each window's gradient goes to its first maximum.
pub fn max_pool2_backward<T: Real>(
    x: &ArrayRef4<T>,
    y: &ArrayRef4<T>,
    g: &ArrayRef4<T>,
) -> Array4<T> {
    let mut d = Array4::zeros(x.raw_dim());
    for ((b, ch, i, j), &m) in y.indexed_iter() {
        'window: for di in 0..2 {
            for dj in 0..2 {
                if x[[b, ch, 2 * i + di, 2 * j + dj]] == m {
                    d[[b, ch, 2 * i + di, 2 * j + dj]] = g[[b, ch, i, j]];
                    break 'window;
                }
            }
        }
    }
    d
}

/// All axes after the first merged into one: `[n, ...] -> [n, rest]`.
pub fn flatten<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array2<T> {
    let n = x.shape().first().copied().unwrap_or(1);
    let rest = x.len().checked_div(n).unwrap_or(0);
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order(Ix2(n, rest))
        .expect("contiguous")
}

/// Derivative of [`flatten`]: the gradient given back its original shape.
pub fn flatten_backward<T: Real, D: Dimension>(
    g: &ArrayRef<T, ndarray::Ix2>,
    shape: D,
) -> Array<T, D> {
    g.as_standard_layout()
        .into_owned()
        .into_shape_with_order(shape)
        .expect("same number of elements")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: Site = Site::internal("conv2d");

    /// The definition, written as loops: out[b,f,i,j] = sum_c,ky,kx x[b,c,i*s+ky-p,j*s+kx-p] w[f,c,ky,kx].
    fn naive(x: &Array4<f64>, w: &Array4<f64>, stride: usize, pad: usize) -> Array4<f64> {
        let (n, c, h, wd) = x.dim();
        let (f, _, kh, kw) = w.dim();
        let (oh, ow) = (
            (h + 2 * pad - kh) / stride + 1,
            (wd + 2 * pad - kw) / stride + 1,
        );
        Array4::from_shape_fn((n, f, oh, ow), |(b, fi, i, j)| {
            let mut acc = 0.0;
            for ci in 0..c {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let y = (i * stride + ky) as isize - pad as isize;
                        let xx = (j * stride + kx) as isize - pad as isize;
                        if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < wd {
                            acc += x[[b, ci, y as usize, xx as usize]] * w[[fi, ci, ky, kx]];
                        }
                    }
                }
            }
            acc
        })
    }

    #[test]
    fn conv2d_matches_the_definition() {
        let x = Array4::from_shape_fn((2, 3, 5, 4), |(a, b, c, d)| {
            ((a * 7 + b * 5 + c * 3 + d) % 11) as f64 - 5.0
        });
        let w = Array4::from_shape_fn((4, 3, 3, 2), |(a, b, c, d)| {
            ((a + 2 * b + 3 * c + d) % 5) as f64 - 2.0
        });
        for (stride, pad) in [(1, 0), (1, 1), (2, 1), (2, 0)] {
            assert_eq!(
                conv2d(&x, &w, stride, pad, &SITE),
                naive(&x, &w, stride, pad),
                "stride {stride} pad {pad}"
            );
        }
    }

    #[test]
    fn adjoint_identities_hold() {
        // <conv(x), g> = <x, conv_backward_input(g)> = <w, conv_backward_weight(g)>
        let x = Array4::from_shape_fn((2, 2, 5, 5), |(a, b, c, d)| {
            ((a * 3 + b * 7 + c * 5 + d * 2) % 13) as f64 / 7.0 - 0.8
        });
        let w = Array4::from_shape_fn((3, 2, 3, 3), |(a, b, c, d)| {
            ((a + b * 4 + c * 2 + d * 3) % 7) as f64 / 5.0 - 0.6
        });
        let y = conv2d(&x, &w, 2, 1, &SITE);
        let g = y.mapv(|v| (v * 1.3).sin());
        let lhs = (&y * &g).sum();
        let dx = conv2d_backward_input(&g, &w, x.raw_dim(), 2, 1);
        let dw = conv2d_backward_weight(&g, &x, w.raw_dim(), 2, 1);
        assert!((lhs - (&x * &dx).sum()).abs() < 1e-10);
        assert!((lhs - (&w * &dw).sum()).abs() < 1e-10);
    }

    #[test]
    fn pooling_and_flatten() {
        let x = Array4::from_shape_fn((1, 1, 4, 4), |(_, _, i, j)| (i * 4 + j) as f64);
        let y = max_pool2(&x);
        assert_eq!(
            y.into_shape_with_order(4).expect("4 values").to_vec(),
            vec![5.0, 7.0, 13.0, 15.0]
        );
        let y = max_pool2(&x);
        let d = max_pool2_backward(&x, &y, &Array4::ones(y.raw_dim()));
        assert_eq!(d.sum(), 4.0);
        assert_eq!(d[[0, 0, 1, 1]], 1.0);
        let f = flatten(&x);
        assert_eq!(f.dim(), (1, 16));
        assert_eq!(flatten_backward(&f, x.raw_dim()), x);
    }

    #[test]
    #[should_panic(expected = "input channels")]
    fn channel_mismatch_is_a_clear_error() {
        conv2d(
            &Array4::<f64>::zeros((1, 2, 4, 4)),
            &Array4::zeros((1, 3, 3, 3)),
            1,
            0,
            &SITE,
        );
    }
}
