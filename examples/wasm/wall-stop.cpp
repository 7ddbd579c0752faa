// wall-stop in C++: drive up to the wall, slowing down as the gap closes, and
// stop about 12 cm before it. Scores 100 on the `wall-stop` lab.
//
// Build (Debian packages clang and lld; no C++ library: no exceptions, no RTTI,
// no new/delete, no std::):
//   clang++ --target=wasm32 -O2 -nostdlib -fno-exceptions -fno-rtti -Wl,--no-entry -Wl,--export=run -o wall-stop.wasm examples/wasm/wall-stop.cpp
// Grade:
//   qiming grade wall-stop wall-stop.wasm

// extern "C" keeps the names unmangled: the module must export plain `run`.
#define ROBOT(name) __attribute__((import_module("robot"), import_name(name)))

extern "C" {
ROBOT("motors")   void   motors(double left, double right);
ROBOT("stop")     void   stop();
ROBOT("wait")     void   wait(double seconds);
ROBOT("distance") double distance(const char *name, int len);
ROBOT("print")    void   print(const char *text, int len);
}

// Overloads that take a string literal and pass (pointer, length in bytes).
template <int N>
double distance(const char (&name)[N]) { return distance(name, N - 1); }

template <int N>
void print(const char (&text)[N]) { print(text, N - 1); }

class Approach {
  public:
    constexpr Approach(double stop_at, double fast) : stop_at_(stop_at), fast_(fast) {}
    // Speed for a gap, or a negative value when it is time to stop.
    constexpr double speed(double gap) const {
        return gap <= stop_at_ ? -1.0 : gap > 0.5 ? fast_ : 0.1 + gap;
    }

  private:
    double stop_at_, fast_;
};

extern "C" void run() {
    constexpr Approach approach(0.12, 0.8);
    for (;;) {
        double s = approach.speed(distance("front"));
        if (s < 0) break;
        motors(s, s);
    }
    stop();
    wait(1.0);
    print("停在墙前 stopped in front of the wall");
}
