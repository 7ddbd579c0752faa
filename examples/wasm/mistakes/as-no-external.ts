// MISTAKE: a `declare function` without @external("robot", ...) is imported
// from a module named after the source file ("as-no-external").
// Expected: link error — "forward" imported from module "as-no-external"
// instead of "robot".
//   npx asc as-no-external.ts -O --use abort= -o as-no-external.wasm
declare function forward(metres: f64): void;

export function run(): void {
  forward(1.0);
}
