/* MISTAKE: the robot functions are declared without import_module("robot"),
 * so they are imported from module "env". wasm-ld refuses undefined functions
 * unless -Wl,--allow-undefined is given; with it, the module links but imports
 * env.forward.
 * Expected: link error — "forward" imported from module "env" instead of "robot".
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -Wl,--allow-undefined -o env-import.wasm examples/wasm/mistakes/env-import.c
 */
void forward(double metres);

void run(void) {
    forward(1.0);
}
