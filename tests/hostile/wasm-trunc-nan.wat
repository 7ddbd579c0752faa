;; expect: error runtime
;; Attack: i32.trunc_f32_u of NaN.
(module
  (func (export "run")
    (drop (i32.trunc_f32_u (f32.const nan)))))
