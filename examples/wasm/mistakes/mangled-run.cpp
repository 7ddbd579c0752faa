// MISTAKE: in C++ without extern "C", `run` gets a mangled name (_Z3runv).
// Expected: wasm-ld stops the build ("symbol exported via --export not found:
// run"); built without -Wl,--export=run, the module has no "run" and fails to
// link in Qiming.
//   clang++ --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -o mangled-run.wasm examples/wasm/mistakes/mangled-run.cpp
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))
extern "C" ROBOT("forward") void forward(double metres);

void run() {
    forward(1.0);
}
