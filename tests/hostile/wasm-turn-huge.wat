;; expect: error runtime
;; Attack: turn 1e300 degrees; must end when simulated time is up.
(module
  (import "robot" "turn" (func $turn (param f64)))
  (func (export "run")
    (call $turn (f64.const 1e300))))
