//! Replay files: everything needed to play a run back, compact and versioned.
//!
//! A replay file is the 8-byte magic `QMRPLY01`, then a raw DEFLATE stream of
//! the postcard encoding of [`Replay`]. The layout is documented in
//! `docs/replay.md`; the studio and the web UI decode it for playback, and
//! organisers keep it as evidence in appeals.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::world::SimEvent;

/// Bumped whenever the encoded layout changes.
pub const REPLAY_VERSION: u32 = 1;
/// First bytes of every replay file.
pub const MAGIC: &[u8; 8] = b"QMRPLY01";

/// Largest replay we agree to decode (uncompressed bytes): bounds memory on hostile files.
const MAX_DECODED: u64 = 256 << 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplayHeader {
    /// Always "qiming-replay".
    pub format: String,
    pub version: u32,
    pub scenario_name: String,
    /// The scenario file's full text, so a player can rebuild the arena.
    pub scenario_source: String,
    pub seed: u64,
    pub tick_hz: u32,
    /// SHA-256 (hex) of the program that drove the robot.
    pub program_sha256: String,
    pub robot_radius: f32,
    pub distance_sensors: Vec<String>,
    pub line_sensors: Vec<String>,
    pub color_sensors: Vec<String>,
    pub bumpers: Vec<String>,
}

/// The robot's state after one tick (frame 0 is the start).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// x (m), y (m), heading (radians, unwrapped).
    pub pose: [f32; 3],
    /// Motor commands (left, right) in [-1, 1].
    pub motors: [f32; 2],
    /// Readings in the order of the header's sensor lists.
    pub distance: Vec<f32>,
    pub line: Vec<f32>,
    /// Palette indices (see `color::PALETTE`).
    pub color: Vec<u8>,
    /// Bit i set: bumper i pressed.
    pub bumpers: u32,
}

/// An event, stamped with the tick it happened in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReplayEvent {
    Contact { tick: u64, solid: String, x: f32, y: f32 },
    ZoneEnter { tick: u64, zone: String },
    ZoneLeave { tick: u64, zone: String },
    Checkpoint { tick: u64, name: String },
    Output { tick: u64, text: String },
}

impl From<&SimEvent> for ReplayEvent {
    fn from(e: &SimEvent) -> Self {
        match e.clone() {
            SimEvent::Contact { tick, solid, point } => ReplayEvent::Contact { tick, solid, x: point[0] as f32, y: point[1] as f32 },
            SimEvent::ZoneEnter { tick, zone } => ReplayEvent::ZoneEnter { tick, zone },
            SimEvent::ZoneLeave { tick, zone } => ReplayEvent::ZoneLeave { tick, zone },
            SimEvent::Checkpoint { tick, name } => ReplayEvent::Checkpoint { tick, name },
            SimEvent::Output { tick, text } => ReplayEvent::Output { tick, text },
        }
    }
}

/// A recorded run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    pub header: ReplayHeader,
    pub frames: Vec<Frame>,
    pub events: Vec<ReplayEvent>,
    /// The run's full-precision state digest (see `SimSummary::state_digest`).
    pub state_digest: String,
}

/// A replay file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The bytes do not start with the replay magic.
    #[error("not a Qiming replay file (bad magic)")]
    BadMagic,
    /// The compressed stream or its content is corrupt or too large.
    #[error("corrupt replay file: {0}")]
    Corrupt(String),
    /// Written by a newer or older, incompatible Qiming.
    #[error("replay version {0} is not supported (this build reads version {REPLAY_VERSION})")]
    Version(u32),
}

impl Replay {
    /// Encodes to the file format. Deterministic: equal replays give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = postcard::to_stdvec(self).expect("replay types always serialise");
        let mut out = MAGIC.to_vec();
        let mut enc = flate2::write::DeflateEncoder::new(&mut out, flate2::Compression::new(6));
        enc.write_all(&body).expect("writing to a Vec cannot fail");
        enc.finish().expect("writing to a Vec cannot fail");
        out
    }

    /// Decodes a replay file.
    ///
    /// The version is read before the body is decoded, so a file from a newer
    /// Qiming is reported as such ("version 2 is not supported"), not as corrupt.
    pub fn from_bytes(bytes: &[u8]) -> Result<Replay, ReplayError> {
        // A future format may change the magic's digits: "QMRPLY02".
        if let Some(digits) = bytes.strip_prefix(b"QMRPLY").and_then(|r| r.get(..2))
            && digits != &MAGIC[6..]
            && let Some(v) = std::str::from_utf8(digits).ok().and_then(|d| d.parse::<u32>().ok())
        {
            return Err(ReplayError::Version(v));
        }
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(ReplayError::BadMagic)?;
        let mut body = Vec::new();
        flate2::read::DeflateDecoder::new(rest).take(MAX_DECODED + 1).read_to_end(&mut body).map_err(|e| ReplayError::Corrupt(e.to_string()))?;
        if body.len() as u64 > MAX_DECODED {
            return Err(ReplayError::Corrupt("larger than 256 MiB when decoded".into()));
        }
        // The header starts with `format` and `version`: read just those first.
        #[derive(Deserialize)]
        struct Probe {
            format: String,
            version: u32,
        }
        if let Ok((probe, _)) = postcard::take_from_bytes::<Probe>(&body)
            && probe.format == "qiming-replay"
            && probe.version != REPLAY_VERSION
        {
            return Err(ReplayError::Version(probe.version));
        }
        let replay: Replay = postcard::from_bytes(&body).map_err(|e| ReplayError::Corrupt(e.to_string()))?;
        if replay.header.version != REPLAY_VERSION {
            return Err(ReplayError::Version(replay.header.version));
        }
        Ok(replay)
    }
}
