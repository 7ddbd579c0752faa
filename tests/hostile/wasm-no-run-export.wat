;; expect: error link
;; Attack: a module that exports no `run` function.
(module
  (func (export "main")))
