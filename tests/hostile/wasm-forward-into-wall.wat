;; expect: time_up
;; scenario: wall
;; Attack: drive 5 km forward into a wall: the wheels spin until time is up.
(module
  (import "robot" "forward" (func $forward (param f64)))
  (func (export "run")
    (call $forward (f64.const 5000))))
