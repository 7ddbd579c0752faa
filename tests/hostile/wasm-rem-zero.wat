;; expect: error runtime
;; Attack: i64.rem_u by zero.
(module
  (func (export "run")
    (drop (i64.rem_u (i64.const 1) (i64.const 0)))))
