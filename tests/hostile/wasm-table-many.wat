;; expect: limit table
;; Attack: five tables of 10000 elements each (more tables than allowed).
(module
  (table 10000 funcref)
  (table 10000 funcref)
  (table 10000 funcref)
  (table 10000 funcref)
  (table 10000 funcref)
  (func (export "run")))
