;; expect: error runtime
;; Attack: a sensor name that starts inside memory and ends outside it.
(module
  (import "robot" "line" (func $line (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $line (i32.const 65534) (i32.const 6)))))
