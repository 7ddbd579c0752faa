;; expect: error link
;; Attack: import a mutable global from the robot module.
(module
  (import "robot" "time" (global $t (mut f64)))
  (func (export "run")
    (global.set $t (f64.const 0))))
