//! Inference on the grading path: a plain-Rust forward pass over a model's
//! stored weights. Single-threaded, fixed operation order, scalar f32
//! arithmetic only (Rust never fuses or reorders float operations on its
//! own), so a run's `classify` gives bit-identical scores on every machine
//! and thread count. This module may not use burn, rayon, threads or SIMD
//! (`tests/all/tidy.rs`).

use crate::model::{Input, Layer, Model, Shape};
use crate::{IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH};

/// Reorders a camera image from row-major interleaved RGB (`[y][x][c]`) to
/// planes (`[c][y][x]`), the layout convolutions read.
pub fn to_planes(input: &[f32]) -> Vec<f32> {
    let (h, w, c) = (IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_CHANNELS);
    let mut out = vec![0.0; h * w * c];
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                out[(ch * h + y) * w + x] = input.get((y * w + x) * c + ch).copied().unwrap_or(0.0);
            }
        }
    }
    out
}

/// The index of the largest score; the first one on ties, and NaN never wins.
pub fn argmax(scores: &[f32]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] || scores[best].is_nan() && !s.is_nan() {
            best = i;
        }
    }
    best
}

/// The scores of every label for `input` (of [`Model`]'s input length; a
/// shorter input is padded with zeros, a longer one cut, so a caller's
/// mistake cannot panic a run — callers check the length first).
pub fn forward(model: &Model, input: &[f32]) -> Vec<f32> {
    let header = model.header();
    let n = header.input.len();
    let mut x: Vec<f32> = (0..n).map(|i| input.get(i).copied().unwrap_or(0.0)).collect();
    let mut shape = match header.input {
        Input::Image { .. } => {
            x = to_planes(&x);
            Shape::Image { c: IMAGE_CHANNELS, h: IMAGE_HEIGHT, w: IMAGE_WIDTH }
        }
        Input::Sensors { .. } => Shape::Flat(n),
    };
    let mut params = model.weights();
    let n_labels = header.labels.len();
    for layer in &header.layers {
        // Layers were validated when the model was made: plan cannot fail here.
        let Ok((count, next, _)) = layer.plan(shape, n_labels) else { return vec![0.0; n_labels] };
        let (p, rest) = params.split_at(count.min(params.len()));
        params = rest;
        x = apply(layer, p, &x, shape, next);
        shape = next;
    }
    x
}

fn apply(layer: &Layer, p: &[f32], x: &[f32], shape: Shape, next: Shape) -> Vec<f32> {
    match *layer {
        Layer::Standardize { n } => (0..n).map(|i| (x[i] - p[i]) * p[n + i]).collect(),
        Layer::Relu => x.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect(),
        Layer::MaxPool2 => {
            let (Shape::Image { c, h, w }, Shape::Image { h: oh, w: ow, .. }) = (shape, next) else { return x.to_vec() };
            let mut out = vec![0.0; c * oh * ow];
            for ch in 0..c {
                for y in 0..oh {
                    for xx in 0..ow {
                        let at = |dy: usize, dx: usize| x[(ch * h + 2 * y + dy) * w + 2 * xx + dx];
                        let mut m = at(0, 0);
                        for v in [at(0, 1), at(1, 0), at(1, 1)] {
                            if v > m {
                                m = v;
                            }
                        }
                        out[(ch * oh + y) * ow + xx] = m;
                    }
                }
            }
            out
        }
        Layer::Conv2d { in_channels, out_channels, kernel, padding } => {
            let (Shape::Image { h, w, .. }, Shape::Image { h: oh, w: ow, .. }) = (shape, next) else { return x.to_vec() };
            let (weights, bias) = p.split_at(out_channels * in_channels * kernel * kernel);
            let mut out = vec![0.0; out_channels * oh * ow];
            for o in 0..out_channels {
                for y in 0..oh {
                    for xx in 0..ow {
                        let mut acc = bias[o];
                        for c in 0..in_channels {
                            for ky in 0..kernel {
                                let iy = (y + ky) as isize - padding as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue;
                                }
                                for kx in 0..kernel {
                                    let ix = (xx + kx) as isize - padding as isize;
                                    if ix < 0 || ix >= w as isize {
                                        continue;
                                    }
                                    acc += weights[((o * in_channels + c) * kernel + ky) * kernel + kx] * x[(c * h + iy as usize) * w + ix as usize];
                                }
                            }
                        }
                        out[(o * oh + y) * ow + xx] = acc;
                    }
                }
            }
            out
        }
        Layer::Dense { inputs, outputs } => {
            let (weights, bias) = p.split_at(inputs * outputs);
            (0..outputs)
                .map(|o| {
                    let row = &weights[o * inputs..(o + 1) * inputs];
                    let mut acc = bias[o];
                    for (wv, xv) in row.iter().zip(x) {
                        acc += wv * xv;
                    }
                    acc
                })
                .collect()
        }
        Layer::Nearest { k, dim, ref cluster_labels } => {
            let Shape::Flat(n_labels) = next else { return x.to_vec() };
            let mut scores = vec![f32::NEG_INFINITY; n_labels];
            for (j, &label) in cluster_labels.iter().enumerate().take(k) {
                let centroid = &p[j * dim..(j + 1) * dim];
                let mut d = 0.0f32;
                for (cv, xv) in centroid.iter().zip(x) {
                    let diff = xv - cv;
                    d += diff * diff;
                }
                if -d > scores[label] {
                    scores[label] = -d;
                }
            }
            scores
        }
    }
}
