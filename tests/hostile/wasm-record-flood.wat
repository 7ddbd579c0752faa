;; expect: error runtime
;; Records in a tight loop: the per-run sample limit ends it with an error.
(module
  (import "robot" "record" (func $record (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x")
  (func (export "run")
    (loop $l
      (call $record (i32.const 0) (i32.const 1))
      (br $l))))
