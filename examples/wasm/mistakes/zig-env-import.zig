// MISTAKE: `extern fn` without a library name imports from module "env".
// Expected: link error — "forward" imported from module "env" instead of "robot".
//   python3 -m ziglang build-exe examples/wasm/mistakes/zig-env-import.zig -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall -femit-bin=zig-env-import.wasm
extern fn forward(metres: f64) void; // should be: extern "robot" fn forward(...)

export fn run() void {
    forward(1.0);
}
