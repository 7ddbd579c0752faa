;; expect: limit stack
;; Attack: two functions recursing through call_indirect.
(module
  (type $t (func (param i32)))
  (table 2 funcref)
  (elem (i32.const 0) $ping $pong)
  (func $ping (param $n i32)
    (call_indirect (type $t) (i32.add (local.get $n) (i32.const 1)) (i32.const 1)))
  (func $pong (param $n i32)
    (call_indirect (type $t) (i32.add (local.get $n) (i32.const 1)) (i32.const 0)))
  (func (export "run")
    (call $ping (i32.const 0))))
