// MISTAKE: AssemblyScript strings are UTF-16 in memory. Passing a string's
// address with its length in characters hands the robot the bytes
// "f\0r\0o" instead of "front".
// Expected: runtime error — unknown distance sensor (the message lists the
// robot's sensors). Fix: String.UTF8.encode (see examples/wasm/wall-stop.ts).
//   npx asc as-utf16.ts -O --use abort= -o as-utf16.wasm
@external("robot", "distance") declare function distance(name: usize, len: i32): f64;
@external("robot", "stop") declare function stop(): void;

export function run(): void {
  const name = "front";
  while (distance(changetype<usize>(name), name.length) > 0.12) {}
  stop();
}
