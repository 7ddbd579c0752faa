;; expect: error link
;; Attack: import robot.motors with the wrong signature (i32 instead of f64 f64).
(module
  (import "robot" "motors" (func $motors (param i32)))
  (func (export "run")
    (call $motors (i32.const 1))))
