;; expect: error runtime
;; Attack: call_indirect through an uninitialised (null) table slot.
(module
  (type $t (func))
  (table 4 funcref)
  (func (export "run")
    (call_indirect (type $t) (i32.const 2))))
