;; expect: error runtime
;; Attack: execute `unreachable`.
(module
  (func (export "run")
    unreachable))
