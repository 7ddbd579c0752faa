;; expect: time_up
;; Takes pictures in a tight loop: each costs a tick, so time runs out.
(module
  (import "robot" "camera" (func $camera (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (loop $l
      (drop (call $camera (i32.const 0)))
      (br $l))))
