;; expect: error link
;; Attack: `run` exported with the wrong type (params and a result).
(module
  (func (export "run") (param i32 i64) (result f64)
    (f64.const 1)))
