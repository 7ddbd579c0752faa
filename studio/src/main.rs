//! `qiming-studio`: opens the studio window, or renders one screenshot with `--screenshot`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use qiming_studio::{Lang, Options, Screen, Studio};

/// Qiming Studio (启明工作室): lessons, editor, live simulation, check my work.
#[derive(Debug, Parser)]
#[command(name = "qiming-studio", version)]
struct Args {
    /// Open this lab (an id from the catalogue).
    #[arg(long)]
    lab: Option<String>,
    /// Load this program (.rhai, .wat or .wasm) into the editor.
    #[arg(long)]
    program: Option<PathBuf>,
    /// zh-CN or en.
    #[arg(long)]
    lang: Option<String>,
    /// The catalogue folder (default: the shipped curriculum).
    #[arg(long)]
    curriculum: Option<PathBuf>,
    /// A Qiming server for connected mode (assignments, submissions).
    #[arg(long)]
    server: Option<String>,
    /// Open this assessment (its id on the server) in connected mode: start or resume
    /// the sitting once signed in (the saved session of the data folder).
    #[arg(long)]
    assessment: Option<i64>,
    /// Open a replay file (.qreplay).
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Open a scenario file in the playground.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Open a scenario file in the world editor.
    #[arg(long)]
    world: Option<PathBuf>,
    /// Start on this screen: lessons, lab, check, ai, playground, replay, world, connected.
    #[arg(long)]
    screen: Option<String>,
    /// Open this dataset folder on the AI screen.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// The AI screen's tab: train, steps or qtable.
    #[arg(long)]
    ai_tab: Option<String>,
    /// With --screenshot on the AI screen: train this kind of model on the dataset first
    /// (cnn, mlp, perceptron, logistic or kmeans; the model is written to the data folder).
    #[arg(long)]
    ai_train: Option<String>,
    /// With --screenshot on the AI screen: take this many perceptron or k-means steps first.
    #[arg(long, default_value_t = 0)]
    ai_steps: u32,
    /// Where programs and settings are kept (default: the user's data folder).
    #[arg(long, env = "QIMING_STUDIO_DATA")]
    data_dir: Option<PathBuf>,
    /// Render the window once to this PNG and exit (docs and tests).
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// With --screenshot: run the program for this much simulated time first (seconds).
    #[arg(long, default_value_t = 3.0)]
    run_for: f64,
    /// Measure instead of showing: run the lab's program, play it back at 1× for
    /// this many frames, print frame times, start-up time and the run's speed
    /// as JSON, and exit (README's performance table).
    #[arg(long)]
    measure_frames: Option<u32>,
    /// Window size for --screenshot, WIDTHxHEIGHT.
    #[arg(long, default_value = "1366x768")]
    size: String,
}

/// What `--screenshot` does, frame by frame.
struct Shot {
    out: PathBuf,
    ai_train: Option<qiming_ai::ModelKind>,
    ai_steps: u32,
    run_for: f64,
    check: bool,
    frames: u32,
    requested: bool,
    /// Where the screenshot callback leaves the rendered image.
    image: std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<egui::ColorImage>>>>,
}

/// What `--measure-frames` records.
struct Measure {
    frames: u32,
    started: std::time::Instant,
    first_frame_ms: Option<f64>,
    last: Option<std::time::Instant>,
    intervals_ms: Vec<f64>,
    /// eframe's own figure: time spent in `ui` and tessellation, without rendering.
    cpu_ms: Vec<f64>,
    run: Option<(f64, f64)>,
    reported: bool,
}

impl Measure {
    fn report(&self) -> serde_json::Value {
        let mut sorted = self.intervals_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
        let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
        let (sim, wall) = self.run.unwrap_or((0.0, 1.0));
        let cpu = self.cpu_ms.iter().sum::<f64>() / self.cpu_ms.len().max(1) as f64;
        serde_json::json!({
            "ui_cpu_ms_mean": cpu,
            "first_frame_ms": self.first_frame_ms,
            "frames": sorted.len(),
            "frame_ms_mean": mean,
            "frame_ms_p50": pct(0.5),
            "frame_ms_p99": pct(0.99),
            "fps_mean": 1000.0 / mean.max(1e-9),
            "run_sim_seconds": sim,
            "run_wall_seconds": wall,
            "run_speed_vs_real_time": sim / wall.max(1e-9),
        })
    }
}

struct App {
    studio: Studio,
    shot: Option<Shot>,
    measure: Option<Measure>,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.studio.ui(ui);
        let ctx = ui.ctx().clone();
        if let Some(m) = &mut self.measure {
            let now = std::time::Instant::now();
            if m.first_frame_ms.is_none() {
                m.first_frame_ms = Some((now - m.started).as_secs_f64() * 1000.0);
                // The run itself, timed: how much faster than real time the engine computes it.
                if let Some(bench) = self.studio.bench.as_mut() {
                    let t0 = std::time::Instant::now();
                    bench.run();
                    bench.wait_for_run();
                    let wall = t0.elapsed().as_secs_f64();
                    let sim = bench.player.as_ref().map_or(0.0, |p| p.last() as f64 / f64::from(qiming_sim::TICK_HZ));
                    m.run = Some((sim, wall));
                    bench.tab = qiming_studio::bench::BottomTab::Plots;
                }
            } else if let Some(last) = m.last {
                m.intervals_ms.push((now - last).as_secs_f64() * 1000.0);
                if let Some(cpu) = frame.info().cpu_usage {
                    m.cpu_ms.push(f64::from(cpu) * 1000.0);
                }
            }
            m.last = Some(now);
            if m.intervals_ms.len() as u32 >= m.frames && !m.reported {
                m.reported = true;
                println!("{}", serde_json::to_string_pretty(&m.report()).unwrap_or_default());
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            ctx.request_repaint();
            return;
        }
        let Some(shot) = &mut self.shot else { return };
        shot.frames += 1;
        if shot.frames == 1 {
            if let Some(bench) = self.studio.bench.as_mut().filter(|_| self.studio.screen == Screen::Lab) {
                bench.seek_on_finish = Some(shot.run_for);
                bench.run();
                bench.wait_for_run();
                if shot.check {
                    bench.start_check();
                    bench.wait_for_check();
                } else {
                    bench.tab = qiming_studio::bench::BottomTab::Plots;
                }
            }
            if let Some(p) = &mut self.studio.replay.player {
                p.seek_seconds(shot.run_for);
                p.playing = false;
            }
            if self.studio.screen == Screen::Ai {
                let lang = self.studio.lang();
                self.studio.ai.prepare_screenshot(self.studio.bench.as_mut(), lang, shot.ai_train, shot.ai_steps);
            }
        }
        // A few frames for layout to settle (panels size themselves from the previous frame).
        // Connected mode: the assignment list comes from the network.
        let waiting = self.studio.screen == Screen::Connected
            && (self.studio.connected.busy || self.studio.assess.busy || self.studio.assess.want.is_some())
            && shot.frames < 600;
        if shot.frames >= 6 && !shot.requested && !waiting {
            shot.requested = true;
            let slot = shot.image.clone();
            let waker = ctx.clone();
            ctx.request_screenshot(move |image| {
                *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(image);
                waker.request_repaint();
            });
        }
        let image = shot.image.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(image) = image {
            if let Err(e) = write_png(&shot.out, &image) {
                eprintln!("cannot write {}: {e}", shot.out.display());
                self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
            } else {
                eprintln!("wrote {} ({}×{})", shot.out.display(), image.size[0], image.size[1]);
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ctx.request_repaint();
    }
}

fn write_png(path: &std::path::Path, image: &egui::ColorImage) -> anyhow::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, image.size[0] as u32, image.size[1] as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    writer.write_image_data(&bytes)?;
    Ok(())
}

fn main() -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let args = Args::parse();
    let lang = match args.lang.as_deref() {
        None => None,
        Some(tag) => Some(Lang::from_tag(tag).ok_or_else(|| anyhow::anyhow!("--lang {tag}: use zh-CN or en"))?),
    };
    let screen = match args.screen.as_deref() {
        None => None,
        Some(name) => Some(
            Screen::from_name(name).ok_or_else(|| anyhow::anyhow!("--screen {name}: use lessons, lab, check, ai, playground, replay, world or connected"))?,
        ),
    };
    let (w, h) = args.size.split_once('x').and_then(|(w, h)| Some((w.parse::<f32>().ok()?, h.parse::<f32>().ok()?))).unwrap_or((1366.0, 768.0));
    let options = Options {
        lab: args.lab.clone(),
        program: args.program.clone(),
        lang,
        curriculum: args.curriculum.clone(),
        data_dir: args.data_dir.clone(),
        replay: args.replay.clone(),
        scenario: args.scenario.clone(),
        screen,
        world: args.world.clone(),
        server: args.server.clone(),
        dataset: args.dataset.clone(),
        assessment: args.assessment,
    };
    let ai_tab = match args.ai_tab.as_deref() {
        None => None,
        Some(name) => Some(qiming_studio::ai::AiTab::from_name(name).ok_or_else(|| anyhow::anyhow!("--ai-tab {name}: use train, steps or qtable"))?),
    };
    let ai_train = match args.ai_train.as_deref() {
        None => None,
        Some(name) => {
            Some(qiming_ai::ModelKind::parse(name).ok_or_else(|| anyhow::anyhow!("--ai-train {name}: use cnn, mlp, perceptron, logistic or kmeans"))?)
        }
    };
    let shot = args.screenshot.clone().map(|out| Shot {
        out,
        ai_train,
        ai_steps: args.ai_steps,
        run_for: args.run_for,
        check: args.screen.as_deref() == Some("check"),
        frames: 0,
        requested: false,
        image: Default::default(),
    });
    let measure = args.measure_frames.map(|frames| Measure {
        frames,
        started,
        first_frame_ms: None,
        last: None,
        intervals_ms: Vec::new(),
        cpu_ms: Vec::new(),
        run: None,
        reported: false,
    });
    let screenshot = shot.is_some() || measure.is_some();
    let mut viewport = egui::ViewportBuilder::default().with_title("启明工作室 Qiming Studio").with_inner_size([w, h]).with_min_inner_size([800.0, 560.0]);
    if screenshot {
        viewport = viewport.with_resizable(false);
    }
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        // A screenshot must not depend on a window size remembered from an earlier session.
        persist_window: !screenshot,
        ..Default::default()
    };
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed_in_app = failed.clone();
    eframe::run_native(
        "qiming-studio",
        native,
        Box::new(move |cc| {
            let mut studio = Studio::new(&cc.egui_ctx, options);
            if let Some(tab) = ai_tab {
                studio.ai.tab = tab;
                studio.ai.tab_chosen = true;
            }
            Ok(Box::new(App { studio, shot, measure, failed: failed_in_app }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the studio window: {e}"))?;
    Ok(if failed.load(std::sync::atomic::Ordering::Relaxed) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
