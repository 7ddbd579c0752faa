;; expect: error runtime
;; Attack: i32.div_s by zero.
(module
  (func (export "run")
    (drop (i32.div_s (i32.const 1) (i32.const 0)))))
