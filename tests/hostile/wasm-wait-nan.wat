;; expect: error runtime
;; Attack: wait NaN seconds.
(module
  (import "robot" "wait" (func $wait (param f64)))
  (func (export "run")
    (call $wait (f64.const nan))))
