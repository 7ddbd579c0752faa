;; expect: error runtime
;; A pointer near 4 GiB whose end wraps around: refused, never written.
(module
  (import "robot" "camera" (func $camera (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $camera (i32.const -16)))))
