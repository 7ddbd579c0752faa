//! Running WebAssembly modules: one engine and linker, pooled instances, fuel as virtual time.
//!
//! The module may import only the functions of module `robot` (see
//! `docs/wasm-abi.md`) and must export `run: [] -> []`. Each run gets a fresh
//! short-lived `Store`; fuel is the virtual CPU and also the clock's deadline
//! (when fuel runs out, simulated time is up), `StoreLimits`-style checks
//! bound memory and tables, and epoch interruption is the wall-clock backstop.
//! Compiled modules and their pre-linked instances are cached by content hash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::{
    Caller, Config, Engine, Extern, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig, ResourceLimiter, Store, Trap,
};

use crate::cache::BoundedCache;
use crate::diagnose::{self, Diagnostic};
use crate::limits::Limits;
use crate::outcome::{ErrorKind, LimitKind, Outcome, ProgramError, RunReport, append_output};
use crate::program::Program;
use crate::robot::{
    AiError, AnyRobot, CAMERA_BYTES, CAMERA_TICKS, Flow, MAX_FORWARD, MAX_LABEL_CHARS, MAX_RECORDS, MAX_TURN, MAX_VECTOR, ModelInput, Robot, check_label,
    check_magnitude, classify_ticks,
};

/// The functions module `robot` provides, with their WebAssembly signatures.
pub const ROBOT_IMPORTS: &[(&str, &str)] = &[
    ("motors", "(f64, f64) -> ()"),
    ("stop", "() -> ()"),
    ("wait", "(f64) -> ()"),
    ("forward", "(f64) -> ()"),
    ("turn", "(f64) -> ()"),
    ("distance", "(i32 ptr, i32 len) -> f64"),
    ("line", "(i32 ptr, i32 len) -> f64"),
    ("color", "(i32 ptr, i32 len, i32 out_ptr, i32 out_cap) -> i32"),
    ("bumper", "(i32 ptr, i32 len) -> i32"),
    ("heading", "() -> f64"),
    ("time", "() -> f64"),
    ("print", "(i32 ptr, i32 len) -> ()"),
    ("print_num", "(f64) -> ()"),
    ("camera", "(i32 out_ptr) -> i32"),
    ("classify_image", "(i32 image_ptr) -> i32"),
    ("classify_vector", "(i32 ptr, i32 n) -> i32"),
    ("label_count", "() -> i32"),
    ("label", "(i32 index, i32 out_ptr, i32 out_cap) -> i32"),
    ("record", "(i32 ptr, i32 len) -> ()"),
];

/// The limit message for too much output.
const OUTPUT_LIMIT: &str = "the program printed more than the output limit";
/// Longest sensor name accepted (bytes).
const MAX_NAME: usize = 256;
/// Epoch tick length of the wall-clock backstop.
const EPOCH: Duration = Duration::from_millis(10);
/// Concurrent instances the pool holds (more than any machine's cores).
const POOL_SLOTS: u32 = crate::MAX_PARALLEL_WASM_RUNS as u32;

/// Memory and table limits, remembering which one a program hit.
struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    hit: Option<(LimitKind, String)>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            let msg = format!(
                "the program asked for {} KiB of memory (it had {} KiB); the limit is {} KiB",
                desired / 1024,
                current / 1024,
                self.memory_bytes / 1024
            );
            self.hit = Some((LimitKind::Memory, msg.clone()));
            return Err(wasmtime::Error::msg(msg));
        }
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            let msg = format!("the program asked for a table of {desired} elements (it had {current}); the limit is {}", self.table_elements);
            self.hit = Some((LimitKind::Table, msg.clone()));
            return Err(wasmtime::Error::msg(msg));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }
    fn memories(&self) -> usize {
        1
    }
    fn tables(&self) -> usize {
        4
    }
}

/// Per-run state inside the `Store`.
struct RunState {
    robot: Box<dyn AnyRobot>,
    rate: u64,
    /// Fuel in the store right after the last sync.
    budget: u64,
    /// Fuel consumed but not yet a whole tick.
    partial: u64,
    work: u64,
    output: String,
    output_limit: usize,
    /// See `Limits::output_ends_run`.
    output_ends_run: bool,
    /// Output was cut at the limit.
    output_cut: bool,
    /// Samples `record`ed so far.
    records: usize,
    /// An ending decided by the host (time up, output limit, bad argument).
    stop: Option<Outcome>,
    /// Why the epoch callback interrupted the run (cancelled, CPU or wall budget).
    interrupted: Option<Outcome>,
    limiter: Limiter,
}

struct WasmEngine {
    engine: Engine,
    linker: Linker<RunState>,
}

fn engine_for(limits: &Limits) -> Result<Arc<WasmEngine>, String> {
    static ENGINES: OnceLock<Mutex<HashMap<usize, Arc<WasmEngine>>>> = OnceLock::new();
    let mut engines = ENGINES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = engines.get(&limits.wasm_stack_bytes) {
        return Ok(e.clone());
    }
    let e = Arc::new(build_engine(limits.wasm_stack_bytes).map_err(|e| format!("cannot start the WebAssembly engine: {e:#}"))?);
    engines.insert(limits.wasm_stack_bytes, e.clone());
    Ok(e)
}

fn build_engine(stack: usize) -> wasmtime::Result<WasmEngine> {
    let defaults = Limits::default();
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_SLOTS)
        .total_memories(POOL_SLOTS)
        .total_tables(POOL_SLOTS * 4)
        .max_memories_per_module(1)
        .max_tables_per_module(4)
        .max_memory_size(defaults.memory_bytes)
        .table_elements(defaults.table_elements);
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(stack)
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true)
        .wasm_memory64(false)
        .wasm_multi_memory(false)
        // Small reservations keep 128 pooled memories cheap in address space;
        // bounds are then checked explicitly, which is just as safe.
        .memory_reservation(defaults.memory_bytes as u64)
        .memory_guard_size(64 << 10)
        .memory_reservation_for_growth(0)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)?;
    start_epoch_ticker(engine.clone());
    let mut linker = Linker::new(&engine);
    define_robot_api(&mut linker)?;
    Ok(WasmEngine { engine, linker })
}

/// The wall-clock backstop: a background thread advances the engine's epoch.
fn start_epoch_ticker(engine: Engine) {
    let _ = std::thread::Builder::new().name("qiming-wasm-epoch".into()).spawn(move || {
        loop {
            std::thread::sleep(EPOCH);
            engine.increment_epoch();
        }
    });
}

fn host_error(caller: &mut Caller<'_, RunState>, message: String, diagnostic: Diagnostic) -> wasmtime::Error {
    caller.data_mut().stop = Some(Outcome::Error(ProgramError::new(ErrorKind::Runtime, message.clone()).explained(diagnostic)));
    wasmtime::Error::msg(message)
}

/// Catches simulated time up with the fuel spent since the last host call.
fn sync(caller: &mut Caller<'_, RunState>) -> wasmtime::Result<()> {
    let left = caller.get_fuel()?;
    let st = caller.data_mut();
    let spent = st.budget.saturating_sub(left);
    st.work += spent;
    st.partial += spent;
    let due = st.partial / st.rate;
    st.partial %= st.rate;
    if due > 0 {
        st.robot.advance(due);
    }
    if st.robot.ticks() >= st.robot.max_ticks() {
        st.stop = Some(Outcome::TimeUp);
        return Err(wasmtime::Error::msg("time is up"));
    }
    refuel(caller)
}

/// Sets the fuel to exactly the simulated time left.
fn refuel(caller: &mut Caller<'_, RunState>) -> wasmtime::Result<()> {
    let st = caller.data_mut();
    let left_ticks = st.robot.max_ticks().saturating_sub(st.robot.ticks());
    let fuel = left_ticks.saturating_mul(st.rate).saturating_sub(st.partial);
    st.budget = fuel;
    caller.set_fuel(fuel)
}

/// Lets `ticks` of simulated time pass for work done outside the module
/// (a camera frame, a model call): its fixed virtual price.
fn charge(caller: &mut Caller<'_, RunState>, ticks: u64) -> wasmtime::Result<()> {
    let st = caller.data_mut();
    let left = st.robot.max_ticks().saturating_sub(st.robot.ticks());
    st.robot.advance(ticks.min(left));
    if st.robot.ticks() >= st.robot.max_ticks() {
        st.stop = Some(Outcome::TimeUp);
        return Err(wasmtime::Error::msg("time is up"));
    }
    refuel(caller)
}

/// Copies `len` bytes at `ptr` out of the exported memory, bounds-checked.
fn read_bytes(caller: &mut Caller<'_, RunState>, func: &str, ptr: i32, len: usize) -> wasmtime::Result<Vec<u8>> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(host_error(caller, format!("{func}: the module must export its memory as \"memory\""), diagnose::wasm_bad_buffer(func)));
    };
    let start = ptr as u32 as usize;
    let data = memory.data(&caller);
    match start.checked_add(len).and_then(|end| data.get(start..end)) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => {
            let size = data.len();
            Err(host_error(
                caller,
                format!("{func}: (pointer {start}, {len} bytes) is outside the module's memory of {size} bytes"),
                diagnose::wasm_bad_buffer(func),
            ))
        }
    }
}

/// Writes `bytes` at `ptr` of the exported memory, bounds-checked.
fn write_bytes(caller: &mut Caller<'_, RunState>, func: &str, ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(host_error(caller, format!("{func}: the module must export its memory as \"memory\""), diagnose::wasm_bad_buffer(func)));
    };
    let start = ptr as u32 as usize;
    let data = memory.data_mut(&mut *caller);
    let size = data.len();
    match start.checked_add(bytes.len()).and_then(|end| data.get_mut(start..end)) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            Ok(())
        }
        None => Err(host_error(
            caller,
            format!("{func}: (pointer {start}, {} bytes) is outside the module's memory of {size} bytes", bytes.len()),
            diagnose::wasm_bad_buffer(func),
        )),
    }
}

fn ai_error(caller: &mut Caller<'_, RunState>, func: &str, e: AiError) -> wasmtime::Error {
    let d = diagnose::ai_error(func, &e);
    host_error(caller, format!("{func}: {e}"), d)
}

/// Runs the model on `input`, charges its price, and returns the label's index.
fn classify_with(caller: &mut Caller<'_, RunState>, func: &str, input: ModelInput<'_>) -> wasmtime::Result<i32> {
    sync(caller)?;
    let answer = caller.data_mut().robot.classify(input);
    let answer = answer.map_err(|e| ai_error(caller, func, e))?;
    let ticks = classify_ticks(answer.macs, caller.data().robot.tick_hz());
    charge(caller, ticks)?;
    Ok(answer.index as i32)
}

fn define_ai_api(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    linker.func_wrap("robot", "camera", |mut c: Caller<'_, RunState>, out: i32| -> wasmtime::Result<i32> {
        sync(&mut c)?;
        let img = c.data_mut().robot.camera();
        let img = img.map_err(|e| ai_error(&mut c, "camera", e))?;
        write_bytes(&mut c, "camera", out, &img)?;
        charge(&mut c, CAMERA_TICKS)?;
        Ok(img.len() as i32)
    })?;
    linker.func_wrap("robot", "classify_image", |mut c: Caller<'_, RunState>, p: i32| -> wasmtime::Result<i32> {
        let img = read_bytes(&mut c, "classify_image", p, CAMERA_BYTES)?;
        classify_with(&mut c, "classify_image", ModelInput::Image(&img))
    })?;
    linker.func_wrap("robot", "classify_vector", |mut c: Caller<'_, RunState>, p: i32, n: i32| -> wasmtime::Result<i32> {
        let count = n as u32 as usize;
        if n < 0 || count > MAX_VECTOR {
            let e = AiError::WrongLength { expected: MAX_VECTOR, got: count };
            return Err(ai_error(&mut c, "classify_vector", e));
        }
        let bytes = read_bytes(&mut c, "classify_vector", p, count * 4)?;
        let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(host_error(&mut c, "classify_vector: the numbers must be finite".into(), diagnose::not_finite("classify_vector")));
        }
        classify_with(&mut c, "classify_vector", ModelInput::Vector(&values))
    })?;
    linker.func_wrap("robot", "label_count", |mut c: Caller<'_, RunState>| -> wasmtime::Result<i32> {
        sync(&mut c)?;
        let labels = c.data().robot.model_labels();
        labels.map(|l| l.len() as i32).map_err(|e| ai_error(&mut c, "label_count", e))
    })?;
    linker.func_wrap("robot", "label", |mut c: Caller<'_, RunState>, i: i32, out: i32, cap: i32| -> wasmtime::Result<i32> {
        sync(&mut c)?;
        let labels = c.data().robot.model_labels();
        let labels = labels.map_err(|e| ai_error(&mut c, "label", e))?;
        let Some(name) = usize::try_from(i).ok().and_then(|i| labels.get(i)) else {
            let e = AiError::NoSuchLabel { index: i64::from(i), count: labels.len() };
            return Err(ai_error(&mut c, "label", e));
        };
        let bytes = name.as_bytes().to_vec();
        if bytes.len() <= cap as u32 as usize {
            write_bytes(&mut c, "label", out, &bytes)?;
        }
        Ok(bytes.len() as i32)
    })?;
    linker.func_wrap("robot", "record", |mut c: Caller<'_, RunState>, p: i32, n: i32| -> wasmtime::Result<()> {
        let label = read_str(&mut c, "record(label)", p, n, MAX_LABEL_CHARS * 4)?;
        if let Err(problem) = check_label(&label) {
            return Err(host_error(
                &mut c,
                format!("record(label): the label {label:?} is not usable ({problem:?})"),
                diagnose::bad_label(problem, MAX_LABEL_CHARS),
            ));
        }
        if c.data().records >= MAX_RECORDS {
            return Err(host_error(&mut c, format!("record(label): a run may record at most {MAX_RECORDS} samples"), diagnose::too_many_records(MAX_RECORDS)));
        }
        sync(&mut c)?;
        let r = c.data_mut().robot.record(&label);
        r.map_err(|e| ai_error(&mut c, "record", e))?;
        c.data_mut().records += 1;
        charge(&mut c, CAMERA_TICKS)
    })?;
    Ok(())
}

fn after_blocking(caller: &mut Caller<'_, RunState>, flow: Flow) -> wasmtime::Result<()> {
    match flow {
        Flow::TimeUp => {
            caller.data_mut().stop = Some(Outcome::TimeUp);
            Err(wasmtime::Error::msg("time is up"))
        }
        Flow::Continue => refuel(caller),
    }
}

fn finite(caller: &mut Caller<'_, RunState>, func: &str, v: f64) -> wasmtime::Result<f64> {
    if v.is_finite() { Ok(v) } else { Err(host_error(caller, format!("{func} needs a finite number, got {v}"), diagnose::not_finite(func))) }
}

/// Reads `len` bytes at `ptr` of the exported memory as UTF-8.
fn read_str(caller: &mut Caller<'_, RunState>, func: &str, ptr: i32, len: i32, max: usize) -> wasmtime::Result<String> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(host_error(caller, format!("{func}: the module must export its memory as \"memory\" to pass text"), diagnose::wasm_bad_text(func)));
    };
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    if len > max {
        return Err(host_error(caller, format!("{func}: text of {len} bytes is longer than the {max} allowed"), diagnose::wasm_bad_text(func)));
    }
    let data = memory.data(&caller);
    let Some(bytes) = data.get(start..start + len) else {
        let size = data.len();
        return Err(host_error(
            caller,
            format!("{func}: (pointer {start}, length {len}) is outside the module's memory of {size} bytes"),
            diagnose::wasm_bad_text(func),
        ));
    };
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            Err(host_error(caller, format!("{func}: the text is not valid UTF-8 (bad byte at offset {})", e.valid_up_to()), diagnose::wasm_bad_text(func)))
        }
    }
}

fn sensor_error(caller: &mut Caller<'_, RunState>, message: String, kind: &str, name: &str) -> wasmtime::Error {
    let names = caller.data().robot.sensor_names(kind);
    host_error(caller, message, diagnose::unknown_sensor(kind, name, &names))
}

fn emit(caller: &mut Caller<'_, RunState>, text: &str) -> wasmtime::Result<()> {
    let st = caller.data_mut();
    let before = st.output.len();
    let ok = append_output(&mut st.output, text, st.output_limit);
    let added = st.output[before..].to_string();
    if !added.is_empty() {
        st.robot.output(&added);
    }
    if !ok {
        st.output_cut = true;
        if st.output_ends_run {
            st.stop = Some(Outcome::Limit { limit: LimitKind::Output, message: OUTPUT_LIMIT.into() });
            return Err(wasmtime::Error::msg("output limit"));
        }
    }
    Ok(())
}

fn define_robot_api(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    define_ai_api(linker)?;
    linker.func_wrap("robot", "motors", |mut c: Caller<'_, RunState>, l: f64, r: f64| -> wasmtime::Result<()> {
        let l = finite(&mut c, "motors(left, right)", l)?;
        let r = finite(&mut c, "motors(left, right)", r)?;
        sync(&mut c)?;
        c.data_mut().robot.motors(l.clamp(-1.0, 1.0), r.clamp(-1.0, 1.0));
        Ok(())
    })?;
    linker.func_wrap("robot", "stop", |mut c: Caller<'_, RunState>| -> wasmtime::Result<()> {
        sync(&mut c)?;
        c.data_mut().robot.motors(0.0, 0.0);
        Ok(())
    })?;
    linker.func_wrap("robot", "wait", |mut c: Caller<'_, RunState>, s: f64| -> wasmtime::Result<()> {
        let s = finite(&mut c, "wait(seconds)", s)?;
        if s < 0.0 {
            return Err(host_error(&mut c, format!("wait(seconds) needs a number of seconds >= 0, got {s}"), diagnose::negative_wait(s)));
        }
        sync(&mut c)?;
        let flow = c.data_mut().robot.wait(s);
        after_blocking(&mut c, flow)
    })?;
    linker.func_wrap("robot", "forward", |mut c: Caller<'_, RunState>, m: f64| -> wasmtime::Result<()> {
        let m = finite(&mut c, "forward(metres)", m)?;
        let m =
            check_magnitude("forward(metres)", m, MAX_FORWARD).map_err(|e| host_error(&mut c, e, diagnose::too_large("forward(metres)", MAX_FORWARD, m)))?;
        sync(&mut c)?;
        let flow = c.data_mut().robot.forward(m);
        after_blocking(&mut c, flow)
    })?;
    linker.func_wrap("robot", "turn", |mut c: Caller<'_, RunState>, d: f64| -> wasmtime::Result<()> {
        let d = finite(&mut c, "turn(degrees)", d)?;
        let d = check_magnitude("turn(degrees)", d, MAX_TURN).map_err(|e| host_error(&mut c, e, diagnose::too_large("turn(degrees)", MAX_TURN, d)))?;
        sync(&mut c)?;
        let flow = c.data_mut().robot.turn(d);
        after_blocking(&mut c, flow)
    })?;
    linker.func_wrap("robot", "distance", |mut c: Caller<'_, RunState>, p: i32, n: i32| -> wasmtime::Result<f64> {
        let name = read_str(&mut c, "distance(name)", p, n, MAX_NAME)?;
        sync(&mut c)?;
        let r = c.data_mut().robot.distance(&name);
        r.map_err(|m| sensor_error(&mut c, m, "distance", &name))
    })?;
    linker.func_wrap("robot", "line", |mut c: Caller<'_, RunState>, p: i32, n: i32| -> wasmtime::Result<f64> {
        let name = read_str(&mut c, "line(name)", p, n, MAX_NAME)?;
        sync(&mut c)?;
        let r = c.data_mut().robot.line(&name);
        r.map_err(|m| sensor_error(&mut c, m, "line", &name))
    })?;
    linker.func_wrap("robot", "color", |mut c: Caller<'_, RunState>, p: i32, n: i32, out: i32, cap: i32| -> wasmtime::Result<i32> {
        let name = read_str(&mut c, "color(name)", p, n, MAX_NAME)?;
        sync(&mut c)?;
        let r = c.data_mut().robot.color(&name);
        let colour = r.map_err(|m| sensor_error(&mut c, m, "color", &name))?;
        let bytes = colour.as_bytes();
        if bytes.len() <= cap as u32 as usize {
            let Some(Extern::Memory(memory)) = c.get_export("memory") else {
                return Err(host_error(&mut c, "color: the module must export its memory as \"memory\"".into(), diagnose::wasm_bad_text("color")));
            };
            let start = out as u32 as usize;
            let data = memory.data_mut(&mut c);
            match data.get_mut(start..start + bytes.len()) {
                Some(dst) => dst.copy_from_slice(bytes),
                None => {
                    return Err(host_error(
                        &mut c,
                        format!("color: output buffer at {start} is outside the module's memory"),
                        diagnose::wasm_bad_text("color"),
                    ));
                }
            }
        }
        Ok(bytes.len() as i32)
    })?;
    linker.func_wrap("robot", "bumper", |mut c: Caller<'_, RunState>, p: i32, n: i32| -> wasmtime::Result<i32> {
        let name = read_str(&mut c, "bumper(name)", p, n, MAX_NAME)?;
        sync(&mut c)?;
        let r = c.data_mut().robot.bumper(&name);
        r.map(i32::from).map_err(|m| sensor_error(&mut c, m, "bumper", &name))
    })?;
    linker.func_wrap("robot", "heading", |mut c: Caller<'_, RunState>| -> wasmtime::Result<f64> {
        sync(&mut c)?;
        Ok(c.data_mut().robot.heading())
    })?;
    linker.func_wrap("robot", "time", |mut c: Caller<'_, RunState>| -> wasmtime::Result<f64> {
        sync(&mut c)?;
        let r = &c.data().robot;
        Ok(r.ticks() as f64 / r.tick_hz() as f64)
    })?;
    linker.func_wrap("robot", "print", |mut c: Caller<'_, RunState>, p: i32, n: i32| -> wasmtime::Result<()> {
        // Any length the memory holds is fine here: the output limit decides.
        let text = read_str(&mut c, "print(text)", p, n, usize::MAX)?;
        sync(&mut c)?;
        emit(&mut c, &format!("{text}\n"))
    })?;
    linker.func_wrap("robot", "print_num", |mut c: Caller<'_, RunState>, v: f64| -> wasmtime::Result<()> {
        sync(&mut c)?;
        emit(&mut c, &format!("{v}\n"))
    })?;
    Ok(())
}

/// A compiled, pre-linked module.
struct Compiled {
    module: Module,
    pre: InstancePre<RunState>,
}

type CacheEntry = Result<Arc<Compiled>, Outcome>;

type CacheKey = ([u8; 32], usize, usize);

fn cache() -> &'static BoundedCache<CacheKey, CacheEntry> {
    static CACHE: OnceLock<BoundedCache<CacheKey, CacheEntry>> = OnceLock::new();
    CACHE.get_or_init(|| BoundedCache::new(256))
}

/// A function type as `(f64, f64) -> ()`, the way `ROBOT_IMPORTS` writes them.
fn signature(f: &wasmtime::FuncType) -> String {
    let list = |types: Vec<String>| format!("({})", types.join(", "));
    format!("{} -> {}", list(f.params().map(|t| t.to_string()).collect()), list(f.results().map(|t| t.to_string()).collect()))
}

/// `(i32 ptr, i32 len) -> f64` without the parameter names: `(i32, i32) -> (f64)`.
fn strip_names(sig: &str) -> String {
    let (params, results) = sig.split_once(" -> ").unwrap_or((sig, "()"));
    let types = |s: &str| -> Vec<String> {
        s.trim_matches(|c| c == '(' || c == ')').split(',').map(|p| p.split_whitespace().next().unwrap_or("").to_string()).filter(|p| !p.is_empty()).collect()
    };
    format!("({}) -> ({})", types(params).join(", "), types(results).join(", "))
}

/// Finds "<anon>:LINE:COL" in a text-format parse error.
fn wat_position(message: &str) -> (Option<u32>, Option<u32>) {
    let Some(i) = message.find("<anon>:") else { return (None, None) };
    let mut parts = message[i + 7..].split(|c: char| !c.is_ascii_digit());
    let line = parts.next().and_then(|s| s.parse().ok());
    let column = parts.next().and_then(|s| s.parse().ok());
    (line, column)
}

/// Refuses modules whose blocks nest deeper than the limit, before the
/// compiler (whose time grows with nesting) sees them. Malformed modules are
/// left for the compiler to report.
fn check_nesting(binary: &[u8], max: usize) -> Result<(), Outcome> {
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload else { continue };
        let Ok(mut ops) = body.get_operators_reader() else { continue };
        let mut depth = 0usize;
        while !ops.eof() {
            let Ok(op) = ops.read() else { break };
            match op {
                wasmparser::Operator::Block { .. }
                | wasmparser::Operator::Loop { .. }
                | wasmparser::Operator::If { .. }
                | wasmparser::Operator::TryTable { .. } => {
                    depth += 1;
                    if depth > max {
                        return Err(Outcome::Limit { limit: LimitKind::ExpressionDepth, message: format!("the module nests blocks more than {max} deep") });
                    }
                }
                wasmparser::Operator::End => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

fn compile(we: &WasmEngine, program: &Program, limits: &Limits) -> CacheEntry {
    // Text is turned into the binary format once, here; the nesting check and
    // the compiler both read the binary.
    let binary = wat::parse_bytes(&program.source).map_err(|e| {
        let message = e.to_string();
        let (line, column) = wat_position(&message);
        Outcome::Error(ProgramError::new(ErrorKind::Compile, message).at(line, column).explained(diagnose::wat_syntax()))
    })?;
    check_nesting(&binary, limits.wasm_nesting)?;
    let module = Module::from_binary(&we.engine, &binary).map_err(|e| {
        let message = format!("{e:#}");
        // The pool refuses oversized declarations at compile time; they are limits, not bugs.
        if message.contains("memory has a minimum byte size") {
            return Outcome::Limit { limit: LimitKind::Memory, message: format!("the module's initial memory is over the limit: {message}") };
        }
        if message.contains("table") && message.contains("pooling allocator") {
            return Outcome::Limit { limit: LimitKind::Table, message: format!("the module's initial table is over the limit: {message}") };
        }
        let (line, column) = wat_position(&message);
        Outcome::Error(ProgramError::new(ErrorKind::Compile, message).at(line, column).explained(diagnose::wasm_invalid()))
    })?;
    // Name every import we do not provide before the linker does, with advice.
    let known: Vec<&str> = ROBOT_IMPORTS.iter().map(|(n, _)| *n).collect();
    for import in module.imports() {
        let link_error = |message: String, diagnostic: Diagnostic| Err(Outcome::Error(ProgramError::new(ErrorKind::Link, message).explained(diagnostic)));
        if import.module() != "robot" {
            return link_error(
                format!(
                    "the module imports \"{}\" from module \"{}\", but Qiming programs can only import robot functions from module \"robot\" (no WASI, files, clock or network)",
                    import.name(),
                    import.module()
                ),
                diagnose::wasm_import_module(import.module(), import.name()),
            );
        }
        let Some((_, needed)) = ROBOT_IMPORTS.iter().find(|(n, _)| *n == import.name()) else {
            return link_error(
                format!("unknown import \"robot.{}\"; module \"robot\" provides: {}", import.name(), known.join(", ")),
                diagnose::wasm_unknown_import(import.name(), &known),
            );
        };
        match import.ty() {
            wasmtime::ExternType::Func(f) if signature(&f) == strip_names(needed) => {}
            other => {
                let found = match &other {
                    wasmtime::ExternType::Func(f) => signature(f),
                    _ => "not a function".to_string(),
                };
                return link_error(
                    format!("import \"robot.{}\" has type {found}, but {} is needed", import.name(), strip_names(needed)),
                    diagnose::wasm_signature(
                        &format!("导入函数 robot.{}", import.name()),
                        &format!("import robot.{}", import.name()),
                        &found,
                        &strip_names(needed),
                    ),
                );
            }
        }
    }
    match module.get_export("run") {
        Some(wasmtime::ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
        Some(other) => {
            let found = match &other {
                wasmtime::ExternType::Func(f) => signature(f),
                _ => "not a function".to_string(),
            };
            return Err(Outcome::Error(
                ProgramError::new(ErrorKind::Link, format!("the module's \"run\" is {found}; it must be a function with no parameters and no results"))
                    .explained(diagnose::wasm_signature("函数 run", "function run", &found, "() -> ()")),
            ));
        }
        None => {
            let exports: Vec<String> = module.exports().filter(|e| matches!(e.ty(), wasmtime::ExternType::Func(_))).map(|e| e.name().to_string()).collect();
            return Err(Outcome::Error(
                ProgramError::new(ErrorKind::Link, "the module must export a function \"run\" with no parameters and no results")
                    .explained(diagnose::wasm_missing_run(&exports)),
            ));
        }
    }
    let pre = we.linker.instantiate_pre(&module).map_err(|e| {
        let sigs: Vec<String> = ROBOT_IMPORTS.iter().map(|(n, s)| format!("{n}: {s}")).collect();
        Outcome::Error(ProgramError::new(ErrorKind::Link, format!("{e:#}; the robot functions are {}", sigs.join("; "))))
    })?;
    Ok(Arc::new(Compiled { module, pre }))
}

fn cached(program: &Program, limits: &Limits) -> (CacheEntry, bool) {
    let we = match engine_for(limits) {
        Ok(we) => we,
        Err(msg) => return (Err(Outcome::Error(ProgramError::new(ErrorKind::Compile, msg))), false),
    };
    let key = (program.sha256(), limits.wasm_stack_bytes, limits.wasm_nesting);
    if let Some(hit) = cache().get(&key) {
        return (hit, true);
    }
    let compiled = compile(&we, program, limits);
    cache().insert(key, compiled.clone());
    (compiled, false)
}

pub(crate) fn prepare(program: &Program, limits: &Limits) -> Option<Outcome> {
    cached(program, limits).0.err()
}

fn trap_outcome(state: &mut RunState, err: &wasmtime::Error) -> Outcome {
    if let Some(stop) = state.stop.take() {
        return stop;
    }
    if let Some((limit, message)) = state.limiter.hit.take() {
        return Outcome::Limit { limit, message };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Outcome::TimeUp,
        Some(Trap::StackOverflow) => {
            Outcome::Limit { limit: LimitKind::Stack, message: "the program used up its stack — is a recursion missing its base case?".into() }
        }
        Some(Trap::Interrupt) => match state.interrupted.take() {
            Some(outcome) => outcome,
            None => Outcome::Limit { limit: LimitKind::WallClock, message: "the run took too long in real time".into() },
        },
        Some(trap) => Outcome::Error(ProgramError::new(ErrorKind::Runtime, format!("the program trapped: {trap}")).explained(diagnose::wasm_trap(trap))),
        None => Outcome::Error(ProgramError::new(ErrorKind::Runtime, format!("{err:#}"))),
    }
}

pub(crate) fn run<R: Robot + Send + 'static>(program: &Program, robot: R, limits: &Limits, cancel: &crate::Cancel) -> (RunReport, R) {
    let (compiled, was_cached) = cached(program, limits);
    let compiled = match compiled {
        Ok(c) => c,
        Err(outcome) => {
            let mut report = RunReport::new(outcome);
            report.cached = was_cached;
            return (report, robot);
        }
    };
    let mut report = RunReport::new(Outcome::Finished);
    report.cached = was_cached;

    // Refuse oversized initial memories and tables up front, with a clear limit.
    let needs = compiled.module.resources_required();
    if let Some(pages) = needs.max_initial_memory_size
        && pages.saturating_mul(65_536) > limits.memory_bytes as u64
    {
        report.outcome = Outcome::Limit {
            limit: LimitKind::Memory,
            message: format!("the module starts with {} KiB of memory; the limit is {} KiB", pages.saturating_mul(64), limits.memory_bytes / 1024),
        };
        return (report, robot);
    }
    if let Some(elements) = needs.max_initial_table_size
        && elements > limits.table_elements as u64
    {
        report.outcome = Outcome::Limit {
            limit: LimitKind::Table,
            message: format!("the module starts with a table of {elements} elements; the limit is {}", limits.table_elements),
        };
        return (report, robot);
    }

    let engine = compiled.pre.module().engine().clone();
    let rate = limits.wasm_fuel_per_tick.max(1);
    let fuel = robot.max_ticks().saturating_sub(robot.ticks()).saturating_mul(rate);
    let state = RunState {
        robot: Box::new(robot),
        rate,
        budget: fuel,
        partial: 0,
        work: 0,
        output: String::new(),
        output_limit: limits.output_bytes,
        output_ends_run: limits.output_ends_run,
        output_cut: false,
        records: 0,
        stop: None,
        interrupted: None,
        limiter: Limiter { memory_bytes: limits.memory_bytes, table_elements: limits.table_elements, hit: None },
    };
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.limiter);
    let _ = store.set_fuel(fuel);
    // At every epoch (10 ms) look at the cancel flag and the budgets: a
    // cancelled run stops within about one epoch.
    store.set_epoch_deadline(1);
    let cancel = cancel.clone();
    let cpu_deadline = crate::rhai_run::thread_cpu() + limits.cpu_time.max(Duration::from_millis(1));
    let wall_deadline = std::time::Instant::now() + limits.wall_clock.max(Duration::from_millis(1));
    store.epoch_deadline_callback(move |mut ctx| {
        let why = if cancel.is_cancelled() {
            Some(Outcome::Cancelled)
        } else if crate::rhai_run::thread_cpu() >= cpu_deadline {
            Some(Outcome::Limit { limit: LimitKind::CpuTime, message: "the run used more processor time than its budget".into() })
        } else if std::time::Instant::now() >= wall_deadline {
            Some(Outcome::Limit { limit: LimitKind::WallClock, message: "the run took too long in real time".into() })
        } else {
            None
        };
        match why {
            Some(outcome) => {
                ctx.data_mut().interrupted = Some(outcome);
                Err(wasmtime::Error::new(Trap::Interrupt))
            }
            None => Ok(wasmtime::UpdateDeadline::Continue(1)),
        }
    });

    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> wasmtime::Result<()> {
        let instance = compiled.pre.instantiate(&mut store)?;
        let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
        run.call(&mut store, ())
    }));

    let left = store.get_fuel().unwrap_or(0);
    let mut outcome = match result {
        Ok(Ok(())) => Outcome::Finished,
        Ok(Err(e)) => trap_outcome(store.data_mut(), &e),
        Err(_) => Outcome::Error(
            ProgramError::new(ErrorKind::Runtime, "internal error in the Qiming runtime (reported to the operators)").explained(diagnose::internal_error()),
        ),
    };
    let mut state = store.into_data();
    if state.output_cut && matches!(outcome, Outcome::Finished | Outcome::TimeUp) {
        outcome = Outcome::Limit { limit: LimitKind::Output, message: OUTPUT_LIMIT.into() };
    }
    let spent = state.budget.saturating_sub(left);
    state.work += spent;
    match outcome {
        Outcome::TimeUp => {
            let rest = state.robot.max_ticks().saturating_sub(state.robot.ticks());
            state.robot.advance(rest);
        }
        _ => {
            let due = (state.partial + spent) / state.rate;
            state.robot.advance(due);
        }
    }
    report.output_truncated = matches!(outcome, Outcome::Limit { limit: LimitKind::Output, .. });
    report.outcome = outcome;
    report.output = state.output;
    report.work = state.work;
    let robot = *state.robot.into_any().downcast::<R>().expect("the robot we put in");
    (report, robot)
}
