;; expect: error runtime
;; Attack: read a distance sensor the robot does not have ("nose").
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "nose")
  (func (export "run")
    (drop (call $distance (i32.const 0) (i32.const 4)))))
