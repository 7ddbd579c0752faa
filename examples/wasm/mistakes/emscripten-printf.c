/* MISTAKE (Emscripten): printf from the C library writes through WASI
 * (fd_write), which Qiming does not provide: programs print with robot.print.
 * Expected: link error — "fd_write" imported from module
 * "wasi_snapshot_preview1" instead of "robot".
 *   emcc -O2 --no-entry -sERROR_ON_UNDEFINED_SYMBOLS=0 -sWARN_ON_UNDEFINED_SYMBOLS=0 -o emscripten-printf.wasm examples/wasm/mistakes/emscripten-printf.c
 */
#include <stdio.h>

__attribute__((export_name("run")))
void run(void) {
    printf("hello, robot\n");
}
