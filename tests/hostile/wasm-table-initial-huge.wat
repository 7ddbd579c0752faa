;; expect: limit table
;; Attack: declare an initial table of 20 million elements.
(module
  (table 20000000 funcref)
  (func (export "run")))
