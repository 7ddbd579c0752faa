;; expect: error runtime
;; Attack: a sensor-name pointer past the end of a one-page memory.
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $distance (i32.const 70000) (i32.const 4)))))
