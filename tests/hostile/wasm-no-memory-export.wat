;; expect: error runtime
;; Attack: call distance from a module that keeps its memory private.
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (drop (call $distance (i32.const 0) (i32.const 5)))))
