;; expect: error link
;; Attack: import a robot function that does not exist (teleport).
(module
  (import "robot" "teleport" (func $teleport (param f64 f64)))
  (func (export "run")
    (call $teleport (f64.const 2.9) (f64.const 2.9))))
