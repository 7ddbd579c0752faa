;; expect: error runtime
;; Attack: i32.div_s INT_MIN / -1 (overflow).
(module
  (func (export "run")
    (drop (i32.div_s (i32.const -2147483648) (i32.const -1)))))
