// MISTAKE: built without `--use abort=`, so the compiler imports `env.abort`
// (AssemblyScript calls it when an assertion or a bounds check fails).
// Expected: link error — "abort" imported from module "env"; the fix is
// `--use abort=` (or a custom abort function, see docs/wasm-abi.md).
//   npx asc as-default-abort.ts -O -o as-default-abort.wasm
@external("robot", "forward") declare function forward(metres: f64): void;

const lengths: f64[] = [0.5, 0.25];

export function run(): void {
  forward(lengths[0] + lengths[1]);
}
