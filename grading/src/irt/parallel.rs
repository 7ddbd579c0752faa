//! Fixed-layout parallel loops: results are bit-identical whatever the thread count.

use std::ops::Range;

/// Persons per chunk. The chunk layout, not the thread count, decides how partial sums
/// are grouped, so sums reduced in chunk order come out the same on 1 or 16 threads.
pub const CHUNK: usize = 2048;

/// Runs `f` over `0..n` in fixed chunks of [`CHUNK`] on up to `threads` threads and
/// returns the chunk results in chunk order.
pub fn chunked<T: Send>(n: usize, threads: usize, f: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    let chunks = n.div_ceil(CHUNK);
    let range = |c: usize| c * CHUNK..((c + 1) * CHUNK).min(n);
    let threads = threads.clamp(1, chunks.max(1));
    if threads == 1 {
        return (0..chunks).map(|c| f(range(c))).collect();
    }
    let f = &f;
    let mut out: Vec<Option<T>> = (0..chunks).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|t| scope.spawn(move || (t..chunks).step_by(threads).map(|c| (c, f(range(c)))).collect::<Vec<_>>())).collect();
        for h in handles {
            for (c, v) in h.join().expect("irt worker thread panicked") {
                out[c] = Some(v);
            }
        }
    });
    out.into_iter().map(|v| v.expect("every chunk computed")).collect()
}
