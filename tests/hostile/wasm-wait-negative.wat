;; expect: error runtime
;; Attack: wait -1 seconds.
(module
  (import "robot" "wait" (func $wait (param f64)))
  (func (export "run")
    (call $wait (f64.const -1))))
