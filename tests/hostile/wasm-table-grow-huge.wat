;; expect: time_up
;; Attack: one table.grow asking for 100 million elements. Wasmtime charges fuel for the growth before the limit check, so the run uses up its time.
(module
  (table $t 0 funcref)
  (func (export "run")
    (drop (table.grow $t (ref.null func) (i32.const 100000000)))))
