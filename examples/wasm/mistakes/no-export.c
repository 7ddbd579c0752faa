/* MISTAKE: `run` is not exported. Neither -Wl,--export=run nor
 * __attribute__((export_name("run"))) is used, so the linker drops it.
 * Expected: link error — the module has no function "run".
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o no-export.wasm examples/wasm/mistakes/no-export.c
 */
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))
ROBOT("forward") void forward(double metres);

void run(void) {
    forward(1.0);
}
