/* MISTAKE: `run` returns an int (like main), but Qiming needs a `run` with
 * no parameters and no results.
 * Expected: link error — the exported "run" has the wrong signature
 * (found () -> i32, needed () -> ()).
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -o run-returns-int.wasm examples/wasm/mistakes/run-returns-int.c
 */
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))
ROBOT("forward") void forward(double metres);

int run(void) {
    forward(1.0);
    return 0;
}
