;; expect: error runtime
;; Attack: a sensor name whose bytes (FF FE) are not valid UTF-8.
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\ff\fe")
  (func (export "run")
    (drop (call $distance (i32.const 0) (i32.const 2)))))
