;; expect: error runtime
;; Attack: NaN motor power from f64.div 0/0.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "wait" (func $wait (param f64)))
  (func (export "run")
    (call $motors (f64.const 0.5) (f64.div (f64.const 0) (f64.const 0)))
    (call $wait (f64.const 1))))
