// wall-stop in Zig: drive up to the wall, slowing down as the gap closes, and
// stop about 12 cm before it. Scores 100 on the `wall-stop` lab.
//
// Build (Zig from PyPI: python3 -m pip install ziglang==0.17.1):
//   python3 -m ziglang build-exe examples/wasm/wall-stop.zig -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall -femit-bin=wall-stop.wasm
// Grade:
//   qiming grade wall-stop wall-stop.wasm

// Every robot function is imported from module "robot" (see docs/wasm-abi.md).
const robot = struct {
    extern "robot" fn motors(left: f64, right: f64) void;
    extern "robot" fn stop() void;
    extern "robot" fn wait(seconds: f64) void;
    extern "robot" fn distance(name: [*]const u8, len: usize) f64;
    extern "robot" fn print(text: [*]const u8, len: usize) void;
};

// Zig strings are UTF-8 slices: pass their pointer and length.
fn distance(name: []const u8) f64 {
    return robot.distance(name.ptr, name.len);
}

fn print(text: []const u8) void {
    robot.print(text.ptr, text.len);
}

// `export` plus -rdynamic makes `run` a module export.
export fn run() void {
    while (true) {
        const gap = distance("front");
        if (gap <= 0.12) break;
        const speed: f64 = if (gap > 0.5) 0.8 else 0.1 + gap;
        robot.motors(speed, speed);
    }
    robot.stop();
    robot.wait(1.0);
    print("停在墙前 stopped in front of the wall");
}
