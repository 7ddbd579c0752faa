//! Running Rhai scripts: one immutable engine per limit set and thread, cached ASTs, virtual time.
//!
//! The engine starts from `Engine::new_raw()` with only the standard package
//! (no time, no modules, `eval` disabled) and every limit set. While a script
//! runs, the run's state (robot, output, clock bookkeeping) lives in a
//! thread-local: registered functions are plain functions of a shared engine,
//! and a run is confined to the thread that started it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Dynamic, Engine, EvalAltResult, NativeCallContext, OptimizationLevel, ParseErrorType, Position};

use crate::cache::BoundedCache;
use crate::diagnose::{self, Diagnostic};
use crate::limits::Limits;
use crate::outcome::{ErrorKind, LimitKind, Outcome, ProgramError, RunReport, append_output};
use crate::program::Program;
use crate::robot::{
    AiError, AnyRobot, CAMERA_BYTES, CAMERA_HEIGHT, CAMERA_TICKS, CAMERA_WIDTH, Flow, MAX_FORWARD, MAX_LABEL_CHARS, MAX_RECORDS, MAX_TURN, MAX_VECTOR,
    ModelInput, Robot, check_label, check_magnitude, classify_ticks,
};

/// Engine settings that depend on limits; runs with equal keys share an engine.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct EngineKey {
    variables: usize,
    call_depth: usize,
    expression_depth: usize,
    string_bytes: usize,
    array_len: usize,
    map_len: usize,
}

impl EngineKey {
    fn of(l: &Limits) -> Self {
        EngineKey {
            variables: l.variables,
            call_depth: l.call_depth,
            expression_depth: l.expression_depth,
            string_bytes: l.string_bytes,
            array_len: l.array_len,
            map_len: l.map_len,
        }
    }
}

/// Termination tokens passed through `on_progress`.
const STOP_TIME_UP: i64 = 1;
const STOP_WALL_CLOCK: i64 = 2;
const STOP_OUTPUT: i64 = 3;
const STOP_CPU: i64 = 4;
const STOP_CANCELLED: i64 = 5;

/// How often (in operations) the backstops and the cancel flag are checked.
const WALL_CHECK_EVERY: u64 = 1 << 10;
/// Every this many variable reads, the value read is measured all the way down.
const DEEP_CHECK_EVERY: u64 = 64;

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    /// Operations executed so far in the current run (updated by `on_progress`).
    static OPS: Cell<u64> = const { Cell::new(0) };
    /// Operation count at which simulated time runs out.
    static DEADLINE: Cell<u64> = const { Cell::new(u64::MAX) };
    static WALL_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The thread's processor time at which the run's CPU budget is spent.
    static CPU_DEADLINE: Cell<Option<Duration>> = const { Cell::new(None) };
    /// The current run's cancel handle.
    static CANCEL: RefCell<Option<crate::Cancel>> = const { RefCell::new(None) };
    static OUTPUT_EXCEEDED: Cell<bool> = const { Cell::new(false) };
    /// Variable reads so far in the current run (paces the deep size checks).
    static VAR_READS: Cell<u64> = const { Cell::new(0) };
    /// The explanation of the last error a robot function raised, with that
    /// error's message: Rhai carries only the message, so the diagnostic
    /// travels beside it and is matched up in `outcome_of`.
    static FAULT: RefCell<Option<(String, Diagnostic)>> = const { RefCell::new(None) };
    /// Whether reaching the output limit ends the run (see `Limits::output_ends_run`).
    static OUTPUT_ENDS_RUN: Cell<bool> = const { Cell::new(true) };
}

struct Host {
    robot: Box<dyn AnyRobot>,
    rate: u64,
    /// Operations already converted into ticks.
    synced_ops: u64,
    output: String,
    output_limit: usize,
    /// Samples `record`ed so far.
    records: usize,
}

fn terminate(token: i64) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(token), Position::NONE).into()
}

impl Host {
    /// Converts operations executed since the last call into ticks and runs them.
    fn sync(&mut self) -> Result<(), Box<EvalAltResult>> {
        let ops = OPS.get();
        let due = ops.saturating_sub(self.synced_ops) / self.rate;
        if due > 0 {
            self.robot.advance(due);
            self.synced_ops += due * self.rate;
        }
        if self.robot.ticks() >= self.robot.max_ticks() {
            return Err(terminate(STOP_TIME_UP));
        }
        self.set_deadline();
        Ok(())
    }

    fn set_deadline(&self) {
        let left = self.robot.max_ticks().saturating_sub(self.robot.ticks());
        DEADLINE.set(self.synced_ops.saturating_add(left.saturating_mul(self.rate)));
    }

    /// Lets `ticks` of simulated time pass for work done outside the
    /// interpreter (a camera frame, a model call): its fixed virtual price.
    fn charge(&mut self, ticks: u64) -> Result<(), Box<EvalAltResult>> {
        let left = self.robot.max_ticks().saturating_sub(self.robot.ticks());
        self.robot.advance(ticks.min(left));
        if self.robot.ticks() >= self.robot.max_ticks() {
            return Err(terminate(STOP_TIME_UP));
        }
        self.set_deadline();
        Ok(())
    }

    fn after_blocking(&mut self, flow: Flow) -> Result<(), Box<EvalAltResult>> {
        match flow {
            Flow::TimeUp => Err(terminate(STOP_TIME_UP)),
            Flow::Continue => {
                self.set_deadline();
                Ok(())
            }
        }
    }
}

fn with_host<T>(f: impl FnOnce(&mut Host) -> Result<T, Box<EvalAltResult>>) -> Result<T, Box<EvalAltResult>> {
    HOST.with_borrow_mut(|h| match h.as_mut() {
        Some(host) => f(host),
        None => Err(EvalAltResult::ErrorRuntime("robot functions are only available during a run".into(), Position::NONE).into()),
    })
}

/// An error raised by a robot function: the English message for teachers, the diagnostic for the child.
fn runtime_error(ctx: &NativeCallContext, message: String, diagnostic: Diagnostic) -> Box<EvalAltResult> {
    FAULT.set(Some((message.clone(), diagnostic)));
    EvalAltResult::ErrorRuntime(message.into(), ctx.call_position()).into()
}

fn number(ctx: &NativeCallContext, func: &str, value: &Dynamic) -> Result<f64, Box<EvalAltResult>> {
    let n = value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
        .ok_or_else(|| runtime_error(ctx, format!("{func} needs a number, got {}", value.type_name()), diagnose::needs_number(func, value.type_name())))?;
    if !n.is_finite() {
        return Err(runtime_error(ctx, format!("{func} needs a finite number, got {n}"), diagnose::not_finite(func)));
    }
    Ok(n)
}

/// A sensor reading, or the error for a name the robot does not have.
fn sensor<T>(ctx: &NativeCallContext, h: &Host, kind: &str, name: &str, reading: Result<T, String>) -> Result<T, Box<EvalAltResult>> {
    reading.map_err(|m| runtime_error(ctx, m, diagnose::unknown_sensor(kind, name, &h.robot.sensor_names(kind))))
}

/// An AI function's error, explained.
fn ai_error(ctx: &NativeCallContext, func: &str, e: AiError) -> Box<EvalAltResult> {
    let d = diagnose::ai_error(func, &e);
    runtime_error(ctx, format!("{func}: {e}"), d)
}

/// A camera image given back by the program: it must still be one.
fn image_bytes<'a>(ctx: &NativeCallContext, func: &str, img: &'a rhai::Blob) -> Result<&'a [u8], Box<EvalAltResult>> {
    if img.len() != CAMERA_BYTES {
        return Err(runtime_error(
            ctx,
            format!("{func} needs an image of {CAMERA_BYTES} bytes as camera() returns it, got {} bytes", img.len()),
            diagnose::not_an_image(func, img.len(), CAMERA_BYTES),
        ));
    }
    Ok(img)
}

/// Runs the model on `input` and charges its price in virtual time.
fn classify_with(ctx: &NativeCallContext, input: ModelInput<'_>) -> Result<String, Box<EvalAltResult>> {
    with_host(|h| {
        h.sync()?;
        let answer = h.robot.classify(input).map_err(|e| ai_error(ctx, "classify", e))?;
        h.charge(classify_ticks(answer.macs, h.robot.tick_hz()))?;
        Ok(answer.label)
    })
}

fn register_ai_api(engine: &mut Engine) {
    engine.register_fn("camera", |ctx: NativeCallContext| -> Result<rhai::Blob, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            let img = h.robot.camera().map_err(|e| ai_error(&ctx, "camera()", e))?;
            h.charge(CAMERA_TICKS)?;
            Ok(img)
        })
    });
    engine.register_fn("pixel", |ctx: NativeCallContext, img: &mut rhai::Blob, x: Dynamic, y: Dynamic| -> Result<rhai::Array, Box<EvalAltResult>> {
        let img = image_bytes(&ctx, "pixel(image, x, y)", img)?;
        let (Ok(x), Ok(y)) = (x.as_int(), y.as_int()) else {
            let got = if x.is_int() { y.type_name() } else { x.type_name() };
            return Err(runtime_error(
                &ctx,
                format!("pixel(image, x, y) needs whole numbers for x and y, got {got}"),
                diagnose::needs_number("pixel(image, x, y)", got),
            ));
        };
        if !(0..CAMERA_WIDTH as i64).contains(&x) || !(0..CAMERA_HEIGHT as i64).contains(&y) {
            return Err(runtime_error(
                &ctx,
                format!("pixel(image, x, y): ({x}, {y}) is outside the {CAMERA_WIDTH}x{CAMERA_HEIGHT} image"),
                diagnose::bad_pixel(x, y, CAMERA_WIDTH, CAMERA_HEIGHT),
            ));
        }
        let at = (y as usize * CAMERA_WIDTH + x as usize) * 3;
        Ok(img[at..at + 3].iter().map(|&c| Dynamic::from_int(i64::from(c))).collect())
    });
    engine.register_fn("classify", |ctx: NativeCallContext, img: &mut rhai::Blob| -> Result<String, Box<EvalAltResult>> {
        let img = image_bytes(&ctx, "classify(image)", img)?;
        classify_with(&ctx, ModelInput::Image(img))
    });
    engine.register_fn("classify", |ctx: NativeCallContext, values: &mut rhai::Array| -> Result<String, Box<EvalAltResult>> {
        if values.len() > MAX_VECTOR {
            let e = AiError::WrongLength { expected: MAX_VECTOR, got: values.len() };
            return Err(ai_error(&ctx, "classify(numbers)", e));
        }
        let mut v = Vec::with_capacity(values.len());
        for (i, item) in values.iter().enumerate() {
            let n = item.as_float().ok().or_else(|| item.as_int().ok().map(|i| i as f64)).ok_or_else(|| {
                runtime_error(
                    &ctx,
                    format!("classify(numbers): item {i} is {}, not a number", item.type_name()),
                    diagnose::needs_numbers("classify", i, item.type_name()),
                )
            })?;
            if !n.is_finite() {
                return Err(runtime_error(&ctx, format!("classify(numbers): item {i} is {n}"), diagnose::not_finite("classify(numbers)")));
            }
            v.push(n as f32);
        }
        classify_with(&ctx, ModelInput::Vector(&v))
    });
    engine.register_fn("classify", |ctx: NativeCallContext, v: Dynamic| -> Result<String, Box<EvalAltResult>> {
        Err(runtime_error(
            &ctx,
            format!("classify needs a camera image or an array of numbers, got {}", v.type_name()),
            diagnose::needs_image("classify", v.type_name()),
        ))
    });
    engine.register_fn("labels", |ctx: NativeCallContext| -> Result<rhai::Array, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            let labels = h.robot.model_labels().map_err(|e| ai_error(&ctx, "labels()", e))?;
            Ok(labels.into_iter().map(Dynamic::from).collect())
        })
    });
    engine.register_fn("record", |ctx: NativeCallContext, label: &str| -> Result<(), Box<EvalAltResult>> {
        check_label(label)
            .map_err(|p| runtime_error(&ctx, format!("record(label): the label {label:?} is not usable ({p:?})"), diagnose::bad_label(p, MAX_LABEL_CHARS)))?;
        with_host(|h| {
            if h.records >= MAX_RECORDS {
                return Err(runtime_error(
                    &ctx,
                    format!("record(label): a run may record at most {MAX_RECORDS} samples"),
                    diagnose::too_many_records(MAX_RECORDS),
                ));
            }
            h.sync()?;
            h.robot.record(label).map_err(|e| ai_error(&ctx, "record(label)", e))?;
            h.records += 1;
            h.charge(CAMERA_TICKS)
        })
    });
    engine.register_fn("record", |ctx: NativeCallContext, v: Dynamic| -> Result<(), Box<EvalAltResult>> {
        let message = format!("record(label) needs the label as text, like record(\"stop\"); got {}", v.type_name());
        Err(runtime_error(&ctx, message, diagnose::bad_label_type(v.type_name())))
    });
}

fn register_robot_api(engine: &mut Engine) {
    register_ai_api(engine);
    engine.register_fn("motors", |ctx: NativeCallContext, l: Dynamic, r: Dynamic| -> Result<(), Box<EvalAltResult>> {
        let left = number(&ctx, "motors(left, right)", &l)?;
        let right = number(&ctx, "motors(left, right)", &r)?;
        with_host(|h| {
            h.sync()?;
            h.robot.motors(left.clamp(-1.0, 1.0), right.clamp(-1.0, 1.0));
            Ok(())
        })
    });
    engine.register_fn("stop", || -> Result<(), Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            h.robot.motors(0.0, 0.0);
            Ok(())
        })
    });
    engine.register_fn("wait", |ctx: NativeCallContext, s: Dynamic| -> Result<(), Box<EvalAltResult>> {
        let seconds = number(&ctx, "wait(seconds)", &s)?;
        if seconds < 0.0 {
            return Err(runtime_error(&ctx, format!("wait(seconds) needs a number of seconds >= 0, got {seconds}"), diagnose::negative_wait(seconds)));
        }
        with_host(|h| {
            h.sync()?;
            let flow = h.robot.wait(seconds);
            h.after_blocking(flow)
        })
    });
    engine.register_fn("forward", |ctx: NativeCallContext, m: Dynamic| -> Result<(), Box<EvalAltResult>> {
        let metres = number(&ctx, "forward(metres)", &m)?;
        let metres = check_magnitude("forward(metres)", metres, MAX_FORWARD)
            .map_err(|e| runtime_error(&ctx, e, diagnose::too_large("forward(metres)", MAX_FORWARD, metres)))?;
        with_host(|h| {
            h.sync()?;
            let flow = h.robot.forward(metres);
            h.after_blocking(flow)
        })
    });
    engine.register_fn("turn", |ctx: NativeCallContext, d: Dynamic| -> Result<(), Box<EvalAltResult>> {
        let degrees = number(&ctx, "turn(degrees)", &d)?;
        let degrees =
            check_magnitude("turn(degrees)", degrees, MAX_TURN).map_err(|e| runtime_error(&ctx, e, diagnose::too_large("turn(degrees)", MAX_TURN, degrees)))?;
        with_host(|h| {
            h.sync()?;
            let flow = h.robot.turn(degrees);
            h.after_blocking(flow)
        })
    });
    engine.register_fn("distance", |ctx: NativeCallContext, name: &str| -> Result<f64, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            let reading = h.robot.distance(name);
            sensor(&ctx, h, "distance", name, reading)
        })
    });
    engine.register_fn("line", |ctx: NativeCallContext, name: &str| -> Result<f64, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            let reading = h.robot.line(name);
            sensor(&ctx, h, "line", name, reading)
        })
    });
    engine.register_fn("color", |ctx: NativeCallContext, name: &str| -> Result<String, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            let reading = h.robot.color(name).map(str::to_string);
            sensor(&ctx, h, "color", name, reading)
        })
    });
    engine.register_fn("bumper", |ctx: NativeCallContext, name: &str| -> Result<bool, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            let reading = h.robot.bumper(name);
            sensor(&ctx, h, "bumper", name, reading)
        })
    });
    engine.register_fn("heading", || -> Result<f64, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            Ok(h.robot.heading())
        })
    });
    engine.register_fn("time", || -> Result<f64, Box<EvalAltResult>> {
        with_host(|h| {
            h.sync()?;
            Ok(h.robot.ticks() as f64 / h.robot.tick_hz() as f64)
        })
    });
    // Rhai's standard `sleep` blocks the host thread in real time, out of
    // reach of virtual time and the wall-clock backstop. The engine's own
    // functions are found before the packages', so these replace it.
    fn no_sleep(ctx: &NativeCallContext) -> Box<EvalAltResult> {
        runtime_error(ctx, "sleep is not available in Qiming programs; use wait(seconds)".into(), diagnose::use_wait("sleep"))
    }
    engine.register_fn("sleep", |ctx: NativeCallContext, _: f64| -> Result<(), Box<EvalAltResult>> { Err(no_sleep(&ctx)) });
    engine.register_fn("sleep", |ctx: NativeCallContext, _: i64| -> Result<(), Box<EvalAltResult>> { Err(no_sleep(&ctx)) });
    // Wrong-type calls get a clear message instead of "function not found".
    for (name, what) in [("distance", "distance"), ("line", "line"), ("color", "colour"), ("bumper", "bumper")] {
        engine.register_fn(name, move |ctx: NativeCallContext, v: Dynamic| -> Result<Dynamic, Box<EvalAltResult>> {
            let message = format!("{name}(name) needs the {what} sensor's name as a string, like {name}(\"front\"); got {}", v.type_name());
            Err(runtime_error(&ctx, message, diagnose::needs_name(name, v.type_name())))
        });
    }
}

fn build_engine(key: EngineKey) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(StandardPackage::new().as_shared_module());
    engine.set_optimization_level(OptimizationLevel::Simple);
    engine.disable_symbol("eval");
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_call_levels(key.call_depth);
    engine.set_max_expr_depths(key.expression_depth, (key.expression_depth / 2).max(1));
    engine.set_max_string_size(key.string_bytes);
    engine.set_max_array_size(key.array_len);
    engine.set_max_map_size(key.map_len);
    engine.set_max_variables(key.variables);
    engine.set_max_functions(500);
    engine.set_max_strings_interned(1_024);
    // Operations are time: the deadline is enforced in `on_progress`, not by a fixed cap.
    engine.set_max_operations(0);
    engine.on_progress(|ops| {
        OPS.set(ops);
        if ops >= DEADLINE.get() {
            return Some(Dynamic::from(STOP_TIME_UP));
        }
        if OUTPUT_EXCEEDED.get() && OUTPUT_ENDS_RUN.get() {
            return Some(Dynamic::from(STOP_OUTPUT));
        }
        if ops.is_multiple_of(WALL_CHECK_EVERY) {
            if CANCEL.with_borrow(|c| c.as_ref().is_some_and(crate::Cancel::is_cancelled)) {
                return Some(Dynamic::from(STOP_CANCELLED));
            }
            if CPU_DEADLINE.get().is_some_and(|d| thread_cpu() >= d) {
                return Some(Dynamic::from(STOP_CPU));
            }
            if WALL_DEADLINE.get().is_some_and(|d| Instant::now() >= d) {
                return Some(Dynamic::from(STOP_WALL_CLOCK));
            }
        }
        None
    });
    // Rhai checks sizes when values are built, but not when an indexed
    // assignment grows a container (`m[k] = v`, `a[i] = big`), and it does not
    // count map keys or values captured in curried function pointers. So every
    // variable read also checks the value: its top level always, and all the
    // way down every DEEP_CHECK_EVERY reads, which bounds how far it can grow.
    #[allow(deprecated)] // `on_var` is stable in practice; rhai marks it volatile.
    engine.on_var(move |name, _index, ctx| {
        if let Some(value) = ctx.scope().get(name) {
            let reads = VAR_READS.get().wrapping_add(1);
            VAR_READS.set(reads);
            check_size(value, &key, reads.is_multiple_of(DEEP_CHECK_EVERY))?;
        }
        Ok(None)
    });
    engine.on_print(|text| print_text(text, true));
    engine.on_debug(|text, _source, _pos| print_text(text, true));
    register_robot_api(&mut engine);
    engine
}

/// Running totals of a value's size, counted the way Rhai's own limits count.
#[derive(Default)]
struct Sizes {
    array: usize,
    map: usize,
    string: usize,
}

fn too_large(what: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(what.to_string(), Position::NONE).into()
}

impl Sizes {
    fn check(&self, key: &EngineKey) -> Result<(), Box<EvalAltResult>> {
        if self.string > key.string_bytes {
            return Err(too_large("Length of string"));
        }
        if self.array > key.array_len {
            return Err(too_large("Size of array/BLOB"));
        }
        if self.map > key.map_len {
            return Err(too_large("Size of object map"));
        }
        Ok(())
    }

    /// Adds `value`, descending into arrays, maps (keys included) and curried
    /// arguments, but not into shared (captured) values, which are checked
    /// when read through their own variables. Stops as soon as a limit is passed.
    fn add(&mut self, value: &Dynamic, key: &EngineKey, depth: u32) -> Result<(), Box<EvalAltResult>> {
        if depth > 64 || (depth > 0 && value.is_shared()) {
            return Ok(());
        }
        if let Ok(s) = value.as_immutable_string_ref() {
            self.string += s.len();
        } else if let Ok(a) = value.as_array_ref() {
            self.array += a.len();
            self.check(key)?;
            for item in a.iter() {
                self.add(item, key, depth + 1)?;
            }
        } else if let Ok(m) = value.as_map_ref() {
            self.map += m.len();
            self.check(key)?;
            for (k, v) in m.iter() {
                self.string += k.len();
                self.add(v, key, depth + 1)?;
            }
        } else if let Ok(b) = value.as_blob_ref() {
            self.array += b.len();
        } else if value.is::<rhai::FnPtr>()
            && let Some(f) = value.read_lock::<rhai::FnPtr>()
        {
            for item in f.iter_curry() {
                self.add(item, key, depth + 1)?;
            }
        }
        self.check(key)
    }
}

/// Checks a value against the size limits: its top level (cheap), or all of it.
fn check_size(value: &Dynamic, key: &EngineKey, deep: bool) -> Result<(), Box<EvalAltResult>> {
    // Maps (whose key bytes Rhai does not count) and function pointers (whose
    // curried values it does not count) are always measured whole.
    if deep || value.is_map() || value.is::<rhai::FnPtr>() {
        return Sizes::default().add(value, key, 0);
    }
    let mut top = Sizes::default();
    if let Ok(a) = value.as_array_ref() {
        top.array = a.len();
    } else if let Ok(m) = value.as_map_ref() {
        top.map = m.len();
    } else if let Ok(s) = value.as_immutable_string_ref() {
        top.string = s.len();
    }
    top.check(key)
}

fn print_text(text: &str, newline: bool) {
    HOST.with_borrow_mut(|h| {
        if let Some(h) = h.as_mut() {
            if OUTPUT_EXCEEDED.get() {
                return;
            }
            let mut line = text.to_string();
            if newline {
                line.push('\n');
            }
            let before = h.output.len();
            let ok = append_output(&mut h.output, &line, h.output_limit);
            let added = h.output[before..].to_string();
            if !added.is_empty() {
                h.robot.output(&added);
            }
            if !ok {
                OUTPUT_EXCEEDED.set(true);
            }
        }
    });
}

// Engines and compiled programs are per thread: Rhai is built without its
// `sync` feature (plain `Rc` instead of atomics inside every value, markedly
// faster), so neither may cross threads. A run never leaves its thread.
thread_local! {
    static ENGINES: RefCell<HashMap<EngineKey, Rc<Engine>>> = RefCell::new(HashMap::new());
    static AST_CACHE: BoundedCache<([u8; 32], EngineKey), Compiled> = BoundedCache::new(256);
}

fn engine_for(limits: &Limits) -> Rc<Engine> {
    let key = EngineKey::of(limits);
    ENGINES.with_borrow_mut(|engines| engines.entry(key).or_insert_with(|| Rc::new(build_engine(key))).clone())
}

type Compiled = Result<Rc<AST>, Outcome>;

/// Processor time this thread has used.
pub(crate) fn thread_cpu() -> Duration {
    cpu_time::ThreadTime::now().as_duration()
}

fn position(pos: Position) -> (Option<u32>, Option<u32>) {
    (pos.line().map(|l| l as u32), pos.position().map(|c| c as u32))
}

fn compile(engine: &Engine, program: &Program) -> Compiled {
    let source = match std::str::from_utf8(&program.source) {
        Ok(s) => s,
        Err(e) => {
            return Err(Outcome::Error(
                ProgramError::new(ErrorKind::Compile, format!("the program is not valid UTF-8 text (first bad byte at offset {})", e.valid_up_to()))
                    .explained(diagnose::not_utf8()),
            ));
        }
    };
    engine.compile(source).map(Rc::new).map_err(|e| {
        let (line, column) = position(e.position());
        match e.err_type() {
            ParseErrorType::ExprTooDeep => Outcome::Limit {
                limit: LimitKind::ExpressionDepth,
                message: format!("the program is nested too deeply to compile (line {})", line.unwrap_or(0)),
            },
            ParseErrorType::LiteralTooLarge(what, max) => Outcome::Limit {
                limit: if what.contains("string") {
                    LimitKind::StringSize
                } else if what.contains("map") {
                    LimitKind::MapSize
                } else {
                    LimitKind::ArraySize
                },
                message: format!("{what} in the program is larger than the limit of {max} (line {})", line.unwrap_or(0)),
            },
            other => Outcome::Error(
                ProgramError::new(ErrorKind::Compile, friendly_parse_error(other))
                    .at(line, column)
                    .explained(diagnose::rhai_compile(source, other, line, column)),
            ),
        }
    })
}

fn friendly_parse_error(e: &ParseErrorType) -> String {
    let text = e.to_string();
    match e {
        ParseErrorType::Reserved(word) if word == "import" || word == "export" => {
            format!("{text}: modules are not available in Qiming programs")
        }
        _ if text.contains("eval") => format!("{text}: eval is not available in Qiming programs"),
        _ => text,
    }
}

fn cached(program: &Program, limits: &Limits) -> (Rc<Engine>, Compiled, bool) {
    let engine = engine_for(limits);
    let key = (program.sha256(), EngineKey::of(limits));
    if let Some(hit) = AST_CACHE.with(|c| c.get(&key)) {
        return (engine, hit, true);
    }
    let compiled = compile(&engine, program);
    AST_CACHE.with(|c| c.insert(key, compiled.clone()));
    (engine, compiled, false)
}

pub(crate) fn prepare(program: &Program, limits: &Limits) -> Option<Outcome> {
    cached(program, limits).1.err()
}

/// Unwraps "in function f" wrappers to the error that actually happened,
/// remembering the outermost function name for the message.
fn root_error(err: &EvalAltResult) -> (&EvalAltResult, Option<&str>) {
    let mut e = err;
    let mut func = None;
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, _) = e {
        if func.is_none() {
            func = Some(name.as_str());
        }
        e = inner;
    }
    (e, func)
}

fn outcome_of(err: &EvalAltResult, source: &str) -> Outcome {
    let (root, func) = root_error(err);
    let (line, column) = position(root.position());
    match root {
        EvalAltResult::ErrorTerminated(token, _) => match token.as_int().unwrap_or(0) {
            STOP_TIME_UP => Outcome::TimeUp,
            STOP_OUTPUT => Outcome::Limit { limit: LimitKind::Output, message: "the program printed more than the output limit".into() },
            STOP_CPU => Outcome::Limit { limit: LimitKind::CpuTime, message: "the run used more processor time than its budget".into() },
            STOP_CANCELLED => Outcome::Cancelled,
            _ => Outcome::Limit { limit: LimitKind::WallClock, message: "the run took too long in real time".into() },
        },
        EvalAltResult::ErrorStackOverflow(_) => Outcome::Limit {
            limit: LimitKind::CallDepth,
            message: format!("functions called each other too deeply (line {}) — is a recursion missing its base case?", line.unwrap_or(0)),
        },
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let limit = if what.starts_with("Length of string") {
                LimitKind::StringSize
            } else if what.starts_with("Size of object map") {
                LimitKind::MapSize
            } else {
                LimitKind::ArraySize
            };
            let at = line.map_or(String::new(), |l| format!(" (line {l})"));
            Outcome::Limit { limit, message: format!("{what} too large{at}") }
        }
        EvalAltResult::ErrorTooManyVariables(_) | EvalAltResult::ErrorTooManyModules(_) => {
            Outcome::Limit { limit: LimitKind::Variables, message: format!("too many variables at once (line {})", line.unwrap_or(0)) }
        }
        EvalAltResult::ErrorParsing(p, _) => {
            Outcome::Error(ProgramError::new(ErrorKind::Compile, p.to_string()).at(line, column).explained(diagnose::rhai_compile(source, p, line, column)))
        }
        _ => {
            let mut message = match root {
                EvalAltResult::ErrorRuntime(msg, _) if msg.is_string() => msg.clone().into_string().unwrap_or_default(),
                _ => strip_position(&root.to_string()),
            };
            // A robot function's own explanation, if this is the error it raised.
            let fault = FAULT.take().filter(|(m, _)| matches!(root, EvalAltResult::ErrorRuntime(..)) && *m == message).map(|(_, d)| d);
            let diagnostic = fault.unwrap_or_else(|| diagnose::rhai_runtime(source, root, line, column));
            if let Some(f) = func {
                message = format!("{message} (in function {f})");
            }
            Outcome::Error(ProgramError::new(ErrorKind::Runtime, message).at(line, column).explained(diagnostic))
        }
    }
}

/// Rhai appends " (line L, position C)" to messages; we report those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// Restores the thread-local state even if something unwinds.
struct RunGuard;
impl Drop for RunGuard {
    fn drop(&mut self) {
        OPS.set(0);
        DEADLINE.set(u64::MAX);
        WALL_DEADLINE.set(None);
        CPU_DEADLINE.set(None);
        CANCEL.set(None);
        OUTPUT_EXCEEDED.set(false);
        OUTPUT_ENDS_RUN.set(true);
        VAR_READS.set(0);
        FAULT.set(None);
    }
}

pub(crate) fn run<R: Robot + Send + 'static>(program: &Program, robot: R, limits: &Limits, cancel: &crate::Cancel) -> (RunReport, R) {
    let (engine, compiled, was_cached) = cached(program, limits);
    let ast = match compiled {
        Ok(ast) => ast,
        Err(outcome) => {
            let mut report = RunReport::new(outcome);
            report.cached = was_cached;
            return (report, robot);
        }
    };
    let rate = limits.rhai_ops_per_tick.max(1);
    let host = Host { robot: Box::new(robot), rate, synced_ops: 0, output: String::new(), output_limit: limits.output_bytes, records: 0 };
    let _guard = RunGuard;
    OPS.set(0);
    OUTPUT_EXCEEDED.set(false);
    OUTPUT_ENDS_RUN.set(limits.output_ends_run);
    VAR_READS.set(0);
    FAULT.set(None);
    WALL_DEADLINE.set(Some(Instant::now() + limits.wall_clock.max(Duration::from_millis(1))));
    CPU_DEADLINE.set(Some(thread_cpu() + limits.cpu_time.max(Duration::from_millis(1))));
    CANCEL.set(Some(cancel.clone()));
    host.set_deadline();
    HOST.set(Some(host));

    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.run_ast(&ast)));

    let mut host = HOST.take().expect("host present for the whole run");
    let work = OPS.get();
    let mut outcome = match result {
        Ok(Ok(())) => Outcome::Finished,
        Ok(Err(e)) => outcome_of(&e, std::str::from_utf8(&program.source).unwrap_or_default()),
        Err(_) => Outcome::Error(
            ProgramError::new(ErrorKind::Runtime, "internal error in the Qiming runtime (reported to the operators)").explained(diagnose::internal_error()),
        ),
    };
    if OUTPUT_EXCEEDED.get() && matches!(outcome, Outcome::Finished | Outcome::TimeUp) {
        outcome = Outcome::Limit { limit: LimitKind::Output, message: "the program printed more than the output limit".into() };
    }
    // Bring the world up to the moment the program stopped.
    match outcome {
        Outcome::TimeUp => {
            let left = host.robot.max_ticks().saturating_sub(host.robot.ticks());
            host.robot.advance(left);
        }
        _ => {
            let _ = host.sync();
        }
    }
    let output_truncated = matches!(outcome, Outcome::Limit { limit: LimitKind::Output, .. });
    let report = RunReport { outcome, output: host.output, output_truncated, cached: was_cached, work };
    let robot = *host.robot.into_any().downcast::<R>().expect("the robot we put in");
    (report, robot)
}
