;; expect: error runtime
;; Attack: infinite motor power from f64.div 1/0.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "wait" (func $wait (param f64)))
  (func (export "run")
    (call $motors (f64.div (f64.const 1) (f64.const 0)) (f64.const 1))
    (call $wait (f64.const 1))))
