;; expect: error runtime
;; Attack: color() with capacity -1 (huge unsigned) and an output pointer of -1.
(module
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "floor")
  (func (export "run")
    (drop (call $color (i32.const 0) (i32.const 5) (i32.const -1) (i32.const -1)))))
