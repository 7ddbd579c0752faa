// wall-stop in AssemblyScript: drive up to the wall, slowing down as the gap
// closes, and stop about 12 cm before it. Scores 100 on the `wall-stop` lab.
//
// Build (npm package assemblyscript, tested with 0.28.20), in a folder that
// holds this file:
//   npm install assemblyscript@0.28.20
//   npx asc wall-stop.ts -O --use abort= -o wall-stop.wasm
// Grade:
//   qiming grade wall-stop wall-stop.wasm
//
// `--use abort=` matters: by default the compiler imports `env.abort` (called
// when an assertion or a bounds check fails), and Qiming provides only the
// robot functions. With `--use abort=` such a failure traps instead.

// Every robot function is imported from module "robot" (see docs/wasm-abi.md);
// without @external the import module would be this file's name.
@external("robot", "motors") declare function motors(left: f64, right: f64): void;
@external("robot", "stop") declare function stop(): void;
@external("robot", "wait") declare function wait(seconds: f64): void;
@external("robot", "distance") declare function robot_distance(name: usize, len: i32): f64;
@external("robot", "print") declare function robot_print(text: usize, len: i32): void;

// AssemblyScript strings are UTF-16, but the robot reads UTF-8 bytes:
// encode text first, then pass the bytes' address and length.
function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}

function distance(name: ArrayBuffer): f64 {
  return robot_distance(changetype<usize>(name), name.byteLength);
}

function print(text: ArrayBuffer): void {
  robot_print(changetype<usize>(text), text.byteLength);
}

// Encoded once, when the module starts.
const FRONT = utf8("front");

export function run(): void {
  while (true) {
    const gap = distance(FRONT);
    if (gap <= 0.12) break;
    const speed = gap > 0.5 ? 0.8 : 0.1 + gap;
    motors(speed, speed);
  }
  stop();
  wait(1.0);
  print(utf8("停在墙前 stopped in front of the wall"));
}
