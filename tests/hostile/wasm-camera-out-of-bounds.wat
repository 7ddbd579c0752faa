;; expect: error runtime
;; camera() asked to write its 2,304 bytes across the end of memory.
(module
  (import "robot" "camera" (func $camera (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $camera (i32.const 65000)))))
