;; expect: error runtime
;; Attack: a sensor name of length -1 (4 GiB unsigned).
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (drop (call $distance (i32.const 0) (i32.const -1)))))
