//! Threads for running student code: a big-stack run thread, and batch grading over a pool of them.
//!
//! Rhai recursion and wasmtime's compiler need more stack than a default
//! thread has, so every run happens on a thread with [`RUN_STACK`]. The CLI,
//! the server's workers and the studio all grade through these functions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use qiming_curriculum::Lab;
use qiming_runtime::Program;

use crate::grade::{GradeOptions, GradeReport, RUN_STACK, grade};

/// A run thread that could not be started, or that panicked (a bug of ours, never a student's program).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunThreadError {
    #[error("cannot start the run thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("the run thread panicked")]
    Panicked,
}

/// Runs `f` on a fresh thread with [`RUN_STACK`] of stack and waits for it.
pub fn on_run_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, RunThreadError> {
    std::thread::Builder::new()
        .name("qiming-run".into())
        .stack_size(RUN_STACK)
        .spawn(f)
        .map_err(RunThreadError::Spawn)?
        .join()
        .map_err(|_| RunThreadError::Panicked)
}

/// Grades `programs` on `workers` threads, one submission per thread at a
/// time (its cases run one after another), calling `done` in submission
/// order as results arrive, whatever order they finish in.
///
/// Reports do not depend on `workers`: each submission is graded alone with
/// one thread, as the server's workers grade it.
pub fn grade_many(lab: &Lab, programs: &[Program], workers: usize, mut done: impl FnMut(usize, GradeReport)) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, GradeReport)>();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let tx = tx.clone();
            let next = &next;
            std::thread::Builder::new()
                .name("qiming-grade".into())
                .stack_size(RUN_STACK)
                .spawn_scoped(scope, move || {
                    let options = GradeOptions { threads: 1, ..GradeOptions::default() };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(program) = programs.get(i) else { break };
                        if tx.send((i, grade(lab, program, &options))).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawn grading worker");
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut expected = 0;
        for (i, report) in rx {
            pending.insert(i, report);
            while let Some(r) = pending.remove(&expected) {
                done(expected, r);
                expected += 1;
            }
        }
    });
}
