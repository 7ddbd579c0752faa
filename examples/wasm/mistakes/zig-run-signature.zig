// MISTAKE: `run` takes a parameter and returns a value; Qiming calls `run`
// with no arguments and expects no result.
// Expected: link error — the exported "run" has the wrong signature
// (found (f64) -> i32, needed () -> ()).
//   python3 -m ziglang build-exe examples/wasm/mistakes/zig-run-signature.zig -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall -femit-bin=zig-run-signature.wasm
extern "robot" fn forward(metres: f64) void;

export fn run(metres: f64) i32 {
    forward(metres);
    return 0;
}
