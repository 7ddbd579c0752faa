//! How a run ended: the typed outcome every caller gets, whatever the program did.

use serde::Serialize;

use crate::diagnose::Diagnostic;

/// Which limit stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// The program text or module is too large.
    ProgramSize,
    /// WebAssembly linear memory (initial size or growth).
    Memory,
    /// WebAssembly table elements (initial size or growth).
    Table,
    /// More WebAssembly instances, memories or tables than allowed.
    Instances,
    /// WebAssembly stack exhausted.
    Stack,
    /// Rhai function calls nested too deeply.
    CallDepth,
    /// Too many Rhai variables alive at once.
    Variables,
    /// Source nested too deeply to compile.
    ExpressionDepth,
    /// A Rhai string grew too long.
    StringSize,
    /// A Rhai array grew too long.
    ArraySize,
    /// A Rhai object map grew too large.
    MapSize,
    /// Too much printed output.
    Output,
    /// The run used more processor time than its budget.
    CpuTime,
    /// The wall-clock backstop fired (the host was far too slow).
    WallClock,
}

impl LimitKind {
    /// The stable name used in JSON and documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::ProgramSize => "program_size",
            LimitKind::Memory => "memory",
            LimitKind::Table => "table",
            LimitKind::Instances => "instances",
            LimitKind::Stack => "stack",
            LimitKind::CallDepth => "call_depth",
            LimitKind::Variables => "variables",
            LimitKind::ExpressionDepth => "expression_depth",
            LimitKind::StringSize => "string_size",
            LimitKind::ArraySize => "array_size",
            LimitKind::MapSize => "map_size",
            LimitKind::Output => "output",
            LimitKind::CpuTime => "cpu_time",
            LimitKind::WallClock => "wall_clock",
        }
    }
}

/// Where in the program's life an error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Did not parse or compile.
    Compile,
    /// Compiled, but imports something Qiming does not provide, or lacks `run`.
    Link,
    /// Failed while running (a trap, a bad argument, an unknown sensor…).
    Runtime,
}

impl ErrorKind {
    /// The stable name used in JSON: "compile", "link" or "runtime".
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Compile => "compile",
            ErrorKind::Link => "link",
            ErrorKind::Runtime => "runtime",
        }
    }
}

/// A program error, with the position where the language has one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProgramError {
    pub kind: ErrorKind,
    /// The engine's own text (Rhai's, wasmtime's or ours), for teachers and logs.
    pub message: String,
    /// 1-based line the learner should look at, when known (the diagnostic's:
    /// for a missing `;`, the line that lacks it, not the next one).
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What a child is shown: code, explanation and suggestion in zh-CN and en
    /// (boxed: outcomes travel by value and most are not errors).
    pub diagnostic: Box<Diagnostic>,
}

impl ProgramError {
    /// An error with the generic explanation for its kind (see [`ProgramError::explained`]).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProgramError { kind, message: message.into(), line: None, column: None, diagnostic: Box::new(Diagnostic::generic(kind)) }
    }
    /// Sets the engine's position; the diagnostic takes it unless it already has a better one.
    pub fn at(mut self, line: Option<u32>, column: Option<u32>) -> Self {
        *self.diagnostic = self.diagnostic.as_ref().clone().or_at(line, column);
        self.line = self.diagnostic.line;
        self.column = self.diagnostic.column;
        self
    }
    /// Replaces the explanation; the diagnostic's position, when it has one, becomes the error's.
    pub fn explained(mut self, diagnostic: Diagnostic) -> Self {
        *self.diagnostic = diagnostic.or_at(self.line, self.column);
        self.line = self.diagnostic.line;
        self.column = self.diagnostic.column;
        self
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The program returned.
    Finished,
    /// The scenario's duration ended while the program was running — the
    /// normal end of a control loop.
    TimeUp,
    /// A limit stopped the program.
    Limit { limit: LimitKind, message: String },
    /// The program failed to compile, link or run.
    Error(ProgramError),
    /// The host stopped the run through its [`Cancel`] handle (the studio's
    /// stop button, a server shutting down). Not the program's doing: a
    /// grader discards such a run rather than score it.
    Cancelled,
}

/// A handle that stops a run promptly from another thread: Rhai checks it
/// every 1,024 operations, WebAssembly at every epoch (10 ms).
#[derive(Clone, Debug, Default)]
pub struct Cancel(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }
    /// Asks every run holding this handle to stop.
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Outcome {
    /// "finished" | "time_up" | "limit" | "error".
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::TimeUp => "time_up",
            Outcome::Limit { .. } => "limit",
            Outcome::Error(_) => "error",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// Everything the runtime knows about a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub outcome: Outcome,
    /// Printed text, truncated at the output limit.
    pub output: String,
    pub output_truncated: bool,
    /// Whether compilation was served from the cache.
    pub cached: bool,
    /// Rhai operations or WebAssembly fuel the program consumed.
    pub work: u64,
}

impl RunReport {
    pub fn new(outcome: Outcome) -> Self {
        RunReport { outcome, output: String::new(), output_truncated: false, cached: false, work: 0 }
    }
}

/// Appends printed text to `out` without passing `limit` bytes (cutting on a
/// character boundary). Returns false once the limit is exceeded.
pub(crate) fn append_output(out: &mut String, text: &str, limit: usize) -> bool {
    let room = limit.saturating_sub(out.len());
    if text.len() <= room {
        out.push_str(text);
        true
    } else {
        let mut cut = room;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&text[..cut]);
        false
    }
}
