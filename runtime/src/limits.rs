//! Hard limits on a run, with safe defaults a lab or competition can tighten.

use std::time::Duration;

/// Every limit a run is held to. `Limits::default()` is documented in
/// `docs/programs.md`; labs may only tighten these (see [`Limits::tightened`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Virtual CPU for Rhai: operations per simulation tick.
    pub rhai_ops_per_tick: u64,
    /// Virtual CPU for WebAssembly: fuel units per simulation tick.
    pub wasm_fuel_per_tick: u64,
    /// Largest WebAssembly module accepted (binary or text), in bytes.
    pub program_bytes: usize,
    /// Largest Rhai script accepted, in bytes. Smaller than modules because
    /// Rhai's compile time grows faster than linearly with some constructs.
    pub script_bytes: usize,
    /// Deepest nesting of WebAssembly blocks, loops and ifs accepted: the
    /// compiler's time grows with it.
    pub wasm_nesting: usize,
    /// WebAssembly linear memory per run, in bytes.
    pub memory_bytes: usize,
    /// WebAssembly table elements per table.
    pub table_elements: usize,
    /// WebAssembly stack, in bytes.
    pub wasm_stack_bytes: usize,
    /// Rhai variables alive at once.
    pub variables: usize,
    /// Rhai function-call nesting.
    pub call_depth: usize,
    /// Rhai expression nesting at compile time (top level; functions get half).
    pub expression_depth: usize,
    /// Rhai string length in bytes (including strings inside arrays and maps).
    pub string_bytes: usize,
    /// Rhai array length (elements, counted through nested arrays).
    pub array_len: usize,
    /// Rhai object-map size (entries, counted through nesting).
    pub map_len: usize,
    /// Printed output, in bytes.
    pub output_bytes: usize,
    /// Processor time of the run's thread: the backstop for programs whose
    /// operations are cheap in virtual time but expensive for the host (huge
    /// sorts, string copies). Measured per thread, so it does not depend on
    /// how busy the machine is; labs get seconds (see `grading::lab_limits`).
    pub cpu_time: Duration,
    /// Whether printing past `output_bytes` ends the run (outcome `limit
    /// output`). When false, the output is cut at the limit and the program
    /// runs on; the outcome is still `limit output`, so the cut is reported,
    /// but the robot's behaviour does not depend on a debugging `print`.
    /// A policy of the caller rather than a resource bound: [`Limits::tightened`]
    /// keeps `self`'s choice.
    pub output_ends_run: bool,
    /// Wall-clock backstop for a run thread that cannot make progress at all;
    /// a run on a sane machine meets `cpu_time` long before this.
    pub wall_clock: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rhai_ops_per_tick: 200,
            wasm_fuel_per_tick: 10_000,
            program_bytes: 1 << 20,
            script_bytes: 64 << 10,
            wasm_nesting: 1_000,
            memory_bytes: 32 << 20,
            table_elements: 10_000,
            wasm_stack_bytes: 512 << 10,
            variables: 2_000,
            call_depth: 48,
            expression_depth: 64,
            string_bytes: 256 << 10,
            array_len: 20_000,
            map_len: 5_000,
            output_bytes: 64 << 10,
            cpu_time: Duration::from_secs(10),
            output_ends_run: true,
            wall_clock: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// Returns limits no looser than `self` in any respect: each field is the
    /// smaller of the two, except the virtual CPU rates, which are fixed by
    /// the platform so that a program behaves the same everywhere.
    pub fn tightened(&self, other: &Limits) -> Limits {
        Limits {
            rhai_ops_per_tick: self.rhai_ops_per_tick,
            wasm_fuel_per_tick: self.wasm_fuel_per_tick,
            program_bytes: self.program_bytes.min(other.program_bytes),
            script_bytes: self.script_bytes.min(other.script_bytes),
            wasm_nesting: self.wasm_nesting.min(other.wasm_nesting),
            memory_bytes: self.memory_bytes.min(other.memory_bytes),
            table_elements: self.table_elements.min(other.table_elements),
            wasm_stack_bytes: self.wasm_stack_bytes.min(other.wasm_stack_bytes),
            variables: self.variables.min(other.variables),
            call_depth: self.call_depth.min(other.call_depth),
            expression_depth: self.expression_depth.min(other.expression_depth),
            string_bytes: self.string_bytes.min(other.string_bytes),
            array_len: self.array_len.min(other.array_len),
            map_len: self.map_len.min(other.map_len),
            output_bytes: self.output_bytes.min(other.output_bytes),
            cpu_time: self.cpu_time.min(other.cpu_time),
            output_ends_run: self.output_ends_run,
            wall_clock: self.wall_clock.min(other.wall_clock),
        }
    }
}
