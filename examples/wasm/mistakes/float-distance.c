/* MISTAKE: `distance` is declared to return float (f32), but the robot's
 * distance returns double (f64).
 * Expected: link error — robot.distance imported with type (i32, i32) -> f32,
 * but it is (i32, i32) -> f64.
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -o float-distance.wasm examples/wasm/mistakes/float-distance.c
 */
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))
ROBOT("distance") float distance(const char *name, int len);
ROBOT("stop")     void  stop(void);

void run(void) {
    while (distance("front", 5) > 0.12f) { }
    stop();
}
