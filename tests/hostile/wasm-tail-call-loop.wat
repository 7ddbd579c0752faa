;; expect: time_up
;; Attack: endless tail recursion with return_call (no stack growth, so only fuel can stop it).
(module
  (func $again (param $n i64)
    (return_call $again (i64.add (local.get $n) (i64.const 1))))
  (func (export "run")
    (call $again (i64.const 0))))
