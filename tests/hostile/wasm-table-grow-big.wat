;; expect: limit table
;; Attack: one table.grow asking for a million elements (less than the fuel left).
(module
  (table $t 0 funcref)
  (func (export "run")
    (drop (table.grow $t (ref.null func) (i32.const 1000000)))))
