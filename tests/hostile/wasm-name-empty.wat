;; expect: error runtime
;; Attack: an empty sensor name, with a zero-page memory.
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 0)
  (func (export "run")
    (drop (call $distance (i32.const 0) (i32.const 0)))))
