;; expect: error runtime
;; Attack: i64.trunc_f64_s of 1e300 (does not fit).
(module
  (func (export "run")
    (drop (i64.trunc_f64_s (f64.const 1e300)))))
