/* wall-stop in C: drive up to the wall, slowing down as the gap closes, and
 * stop about 12 cm before it. Scores 100 on the `wall-stop` lab.
 *
 * Build (Debian packages clang and lld; no C library is used):
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -o wall-stop.wasm examples/wasm/wall-stop.c
 * Grade:
 *   qiming grade wall-stop wall-stop.wasm
 */

/* Every robot function is imported from module "robot" (see docs/wasm-abi.md). */
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))

ROBOT("motors")   void   motors(double left, double right);
ROBOT("stop")     void   stop(void);
ROBOT("wait")     void   wait(double seconds);
ROBOT("distance") double distance(const char *name, int len);
ROBOT("print")    void   print(const char *text, int len);

/* A string literal as (pointer, length in bytes). */
#define S(text) text, (int)(sizeof(text) - 1)

void run(void) {
    for (;;) {
        double gap = distance(S("front"));
        if (gap <= 0.12) break;
        double speed = gap > 0.5 ? 0.8 : 0.1 + gap;
        motors(speed, speed);
    }
    stop();
    wait(1.0);
    print(S("停在墙前 stopped in front of the wall"));
}
