;; expect: error runtime
;; Attack: call_indirect with an index past the end of the table.
(module
  (type $t (func))
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (func $f)
  (func (export "run")
    (call_indirect (type $t) (i32.const 123456))))
