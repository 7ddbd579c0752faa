;; expect: limit stack
;; Attack: unbounded recursion with no base case.
(module
  (func $down (param $n i32) (result i32)
    (call $down (i32.add (local.get $n) (i32.const 1))))
  (func (export "run")
    (drop (call $down (i32.const 0)))))
