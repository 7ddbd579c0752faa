;; expect: error runtime
;; Attack: a 60000-byte sensor name that fits in memory.
(module
  (import "robot" "bumper" (func $bumper (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (memory.fill (i32.const 0) (i32.const 0x61) (i32.const 60000))
    (drop (call $bumper (i32.const 0) (i32.const 60000)))))
