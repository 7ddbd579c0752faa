;; expect: finished
;; Attack: call robot functions from the start function, before `run` (must behave like a normal call).
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "print_num" (func $print_num (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func $init
    (call $print_num (call $distance (i32.const 0) (i32.const 5))))
  (start $init)
  (func (export "run")))
