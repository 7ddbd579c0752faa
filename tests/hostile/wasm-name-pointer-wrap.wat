;; expect: error runtime
;; Attack: pointer -4 (0xFFFFFFFC) with length 8, hoping the address wraps to 4.
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (drop (call $distance (i32.const -4) (i32.const 8)))))
