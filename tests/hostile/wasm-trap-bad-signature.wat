;; expect: error runtime
;; Attack: call_indirect a function with a different signature.
(module
  (type $want (func (param f64) (result f64)))
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (func $f (param i32) (result i32) (local.get 0))
  (func (export "run")
    (drop (call_indirect (type $want) (f64.const 1) (i32.const 0)))))
