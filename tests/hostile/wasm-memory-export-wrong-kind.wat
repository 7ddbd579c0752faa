;; expect: error runtime
;; Attack: export a global (not a memory) under the name "memory", then pass a name.
(module
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (global (export "memory") i32 (i32.const 0))
  (func (export "run")
    (drop (call $distance (i32.const 0) (i32.const 5)))))
