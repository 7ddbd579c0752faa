;; expect: error runtime
;; Attack: forward(-inf).
(module
  (import "robot" "forward" (func $forward (param f64)))
  (func (export "run")
    (call $forward (f64.const -inf))))
