;; expect: error runtime
;; Attack: ask color() to write its answer past the end of memory.
(module
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "floor")
  (func (export "run")
    (drop (call $color (i32.const 0) (i32.const 5) (i32.const 65534) (i32.const 64)))))
