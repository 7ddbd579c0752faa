/* Drive towards the wall and stop about 10 cm before it (C, compiled to WebAssembly).
   Build: clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o wall-stop.wasm wall-stop.c */
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))

ROBOT("motors")   void   motors(double left, double right);
ROBOT("stop")     void   stop(void);
ROBOT("wait")     void   wait(double seconds);
ROBOT("distance") double distance(const char *name, int len);
ROBOT("print")    void   print(const char *text, int len);

/* A string literal as (pointer, length). */
#define S(text) text, (int)(sizeof(text) - 1)

__attribute__((export_name("run")))
void run(void) {
    motors(0.6, 0.6);
    while (distance(S("front")) > 0.25) { }
    motors(0.2, 0.2);
    while (distance(S("front")) > 0.11) { }
    stop();
    wait(0.5);
    print(S("stopped in front of the wall"));
}
