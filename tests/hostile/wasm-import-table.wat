;; expect: error link
;; Attack: import a table from another module.
(module
  (import "env" "table" (table 1 funcref))
  (func (export "run")))
