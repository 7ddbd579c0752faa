/* MISTAKE (Emscripten): a robot function declared under the name `wait`.
 * Emscripten's C library defines wait(int *) already, and the linker binds
 * the call to it ("function signature mismatch: wait") instead of importing
 * robot.wait; the call then traps.
 * Expected: runtime error — the program trapped (unreachable) right after stop().
 * Fix: give every robot function a safe C name (robot_wait) and keep
 * import_name("wait"), as in examples/wasm/wall-stop-emscripten.c.
 *   emcc -O2 --no-entry -sERROR_ON_UNDEFINED_SYMBOLS=0 -sWARN_ON_UNDEFINED_SYMBOLS=0 -o emscripten-wait.wasm examples/wasm/mistakes/emscripten-wait.c
 */
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))
ROBOT("forward") void forward(double metres);
ROBOT("stop")    void stop(void);
ROBOT("wait")    void wait(double seconds);

__attribute__((export_name("run")))
void run(void) {
    forward(0.5);
    stop();
    wait(1.0);
    forward(0.5);
}
