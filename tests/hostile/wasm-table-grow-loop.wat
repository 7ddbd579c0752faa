;; expect: limit table
;; Attack: grow a table one element at a time forever.
(module
  (table $t 1 funcref)
  (func (export "run")
    (loop $more
      (drop (table.grow $t (ref.null func) (i32.const 1)))
      (br $more))))
