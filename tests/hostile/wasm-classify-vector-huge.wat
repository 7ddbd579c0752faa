;; expect: error runtime
;; classify_vector with a negative (huge unsigned) count and a wild pointer.
(module
  (import "robot" "classify_vector" (func $cv (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $cv (i32.const 100) (i32.const -1)))))
