/* wall-stop in C for Emscripten: drive up to the wall, slowing down as the gap
 * closes, and stop about 12 cm before it. Scores 100 on the `wall-stop` lab.
 *
 * Emscripten links its C library, which already has functions called `wait`
 * and `time` (and maybe more): a robot function declared under such a name
 * would silently call the C library's instead. So every robot function gets a
 * `robot_` name here; import_name keeps the name Qiming provides.
 *
 * Build (Debian package emscripten, tested with 3.1.6):
 *   emcc -O2 --no-entry -sERROR_ON_UNDEFINED_SYMBOLS=0 -sWARN_ON_UNDEFINED_SYMBOLS=0 -o wall-stop.wasm examples/wasm/wall-stop-emscripten.c
 * Grade:
 *   qiming grade wall-stop wall-stop.wasm
 *
 * Do not call printf, malloc-heavy or file functions of the C library: they
 * import WASI or JavaScript functions, which Qiming does not provide.
 */

#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))

ROBOT("motors")   void   robot_motors(double left, double right);
ROBOT("stop")     void   robot_stop(void);
ROBOT("wait")     void   robot_wait(double seconds);
ROBOT("distance") double robot_distance(const char *name, int len);
ROBOT("print")    void   robot_print(const char *text, int len);

/* A string literal as (pointer, length in bytes). */
#define S(text) text, (int)(sizeof(text) - 1)

__attribute__((export_name("run")))
void run(void) {
    for (;;) {
        double gap = robot_distance(S("front"));
        if (gap <= 0.12) break;
        double speed = gap > 0.5 ? 0.8 : 0.1 + gap;
        robot_motors(speed, speed);
    }
    robot_stop();
    robot_wait(1.0);
    robot_print(S("停在墙前 stopped in front of the wall"));
}
