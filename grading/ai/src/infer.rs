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
#[inline(always)]
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
// The one `unsafe` of the workspace: calling the AVX2 copy after checking the CPU has AVX2.
#[allow(unsafe_code)]
pub fn forward(model: &Model, input: &[f32]) -> Vec<f32> {
    // The same code compiled a second time for CPUs with AVX2 (wider vector
    // registers for the side-by-side sums, twice the outputs per
    // instruction). Not one operation changes: AVX2 has no fused
    // multiply-add (that is the separate `fma` feature, never enabled here),
    // and the compiler may not reorder float sums for any instruction set, so
    // both copies give the same bits (`tests/all/ai.rs`'s stored hash holds on
    // either; the unit tests below compare them).
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked on the line above.
        return unsafe { forward_avx2(model, input) };
    }
    forward_portable(model, input)
}

/// [`forward`] compiled for AVX2 (everything it calls is inlined into it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn forward_avx2(model: &Model, input: &[f32]) -> Vec<f32> {
    forward_portable(model, input)
}

/// The forward pass for the baseline instruction set (and, inlined, for AVX2).
#[inline(always)]
fn forward_portable(model: &Model, input: &[f32]) -> Vec<f32> {
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

#[inline(always)]
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
            let geometry = ConvGeometry { in_channels, out_channels, kernel, padding, h, w, oh, ow };
            conv2d(&geometry, p, x)
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

/// Sizes of one convolution: input `in_channels`×`h`×`w`, output
/// `out_channels`×`oh`×`ow`, a square `kernel` with zero `padding`.
#[derive(Clone, Copy, Debug)]
struct ConvGeometry {
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    padding: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

/// Output channels computed together: their running sums stay in registers
/// while one input pixel is multiplied into all of them.
const BLOCK: usize = 8;

/// A convolution, `p` holding the weights `[out][in][ky][kx]` then one bias
/// per output channel, `x` the input planes `[in][y][x]`; returns the output
/// planes `[out][y][x]`.
///
/// Every output value is `bias + Σ w·x` summed in the fixed order
/// (input channel, kernel row, kernel column), skipping taps that fall in the
/// padding, each product rounded before it is added — exactly the textbook
/// loop (`conv2d_textbook` in the tests), bit for bit. Speed comes only from doing
/// [`BLOCK`] output channels side by side (independent sums the compiler may
/// put in vector registers; no sum is split or reordered), never from
/// reassociating a sum, so the result does not depend on the machine.
#[inline(always)]
fn conv2d(g: &ConvGeometry, p: &[f32], x: &[f32]) -> Vec<f32> {
    let &ConvGeometry { in_channels, out_channels, kernel, padding, h, w, oh, ow } = g;
    let taps = in_channels * kernel * kernel;
    let (weights, bias) = p.split_at(out_channels * taps);
    let blocks = out_channels.div_ceil(BLOCK);
    // Weights regrouped as [block][in][ky][kx][BLOCK], zero beyond the last
    // channel: the BLOCK weights one input tap meets are contiguous.
    let mut grouped = vec![0.0f32; blocks * taps * BLOCK];
    for o in 0..out_channels {
        let (b, j) = (o / BLOCK, o % BLOCK);
        for t in 0..taps {
            grouped[(b * taps + t) * BLOCK + j] = weights[o * taps + t];
        }
    }
    let mut out = vec![0.0f32; out_channels * oh * ow];
    for b in 0..blocks {
        let group = &grouped[b * taps * BLOCK..(b + 1) * taps * BLOCK];
        let first = b * BLOCK;
        let width = BLOCK.min(out_channels - first);
        let mut start = [0.0f32; BLOCK];
        start[..width].copy_from_slice(&bias[first..first + width]);
        for y in 0..oh {
            // Rows whose every kernel row lies inside the image (no padding).
            let rows_inside = y >= padding && y - padding + kernel <= h;
            for xx in 0..ow {
                let mut acc = start;
                if rows_inside && xx >= padding && xx - padding + kernel <= w {
                    // The common case: every tap is inside, so they are
                    // visited in storage order without a bounds decision.
                    let (y0, x0) = (y - padding, xx - padding);
                    let mut taps = group.chunks_exact(BLOCK);
                    for c in 0..in_channels {
                        let plane = &x[c * h * w..(c + 1) * h * w];
                        for ky in 0..kernel {
                            let row = &plane[(y0 + ky) * w + x0..][..kernel];
                            for (&v, tap) in row.iter().zip(&mut taps) {
                                for (sum, &weight) in acc.iter_mut().zip(tap) {
                                    *sum += weight * v;
                                }
                            }
                        }
                    }
                } else {
                    for c in 0..in_channels {
                        let plane = &x[c * h * w..(c + 1) * h * w];
                        for ky in 0..kernel {
                            let Some(iy) = (y + ky).checked_sub(padding).filter(|&iy| iy < h) else { continue };
                            let row = &plane[iy * w..(iy + 1) * w];
                            for kx in 0..kernel {
                                let Some(ix) = (xx + kx).checked_sub(padding).filter(|&ix| ix < w) else { continue };
                                let v = row[ix];
                                let tap = &group[((c * kernel + ky) * kernel + kx) * BLOCK..][..BLOCK];
                                for (sum, &weight) in acc.iter_mut().zip(tap) {
                                    *sum += weight * v;
                                }
                            }
                        }
                    }
                }
                for (j, &value) in acc[..width].iter().enumerate() {
                    out[((first + j) * oh + y) * ow + xx] = value;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution as textbooks write it: one output value at a time.
    pub(super) fn conv2d_textbook(g: &ConvGeometry, p: &[f32], x: &[f32]) -> Vec<f32> {
        let &ConvGeometry { in_channels, out_channels, kernel, padding, h, w, oh, ow } = g;
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

    /// A fixed pseudo-random sequence (xorshift), so the test needs no crate.
    fn numbers(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    #[allow(unsafe_code)]
    fn blocked_convolution_equals_the_textbook_loop_bit_for_bit() {
        // Channel counts below, at and above a block, odd sizes, every padding.
        for (in_channels, out_channels, kernel, padding, h, w) in
            [(3, 8, 3, 1, 24, 32), (8, 16, 3, 1, 12, 16), (1, 1, 1, 0, 5, 7), (2, 5, 3, 0, 6, 9), (4, 11, 5, 2, 7, 4), (3, 17, 5, 1, 9, 10)]
        {
            let (oh, ow) = (h + 2 * padding + 1 - kernel, w + 2 * padding + 1 - kernel);
            let g = ConvGeometry { in_channels, out_channels, kernel, padding, h, w, oh, ow };
            let p = numbers(7 + out_channels as u64, out_channels * in_channels * kernel * kernel + out_channels);
            let x = numbers(11 + in_channels as u64, in_channels * h * w);
            let fast: Vec<u32> = conv2d(&g, &p, &x).iter().map(|v| v.to_bits()).collect();
            let slow: Vec<u32> = conv2d_textbook(&g, &p, &x).iter().map(|v| v.to_bits()).collect();
            assert_eq!(fast, slow, "{g:?}");
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked on the line above.
                let wide: Vec<u32> = unsafe { conv2d_avx2(&g, &p, &x) }.iter().map(|v| v.to_bits()).collect();
                assert_eq!(wide, slow, "AVX2 {g:?}");
            }
        }
    }

    /// The convolution compiled for AVX2, as [`forward_avx2`] inlines it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn conv2d_avx2(g: &ConvGeometry, p: &[f32], x: &[f32]) -> Vec<f32> {
        conv2d(g, p, x)
    }
}
