;; 墙前停车 / Stop before the wall (WebAssembly text)
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (call $motors (f64.const 0.5) (f64.const 0.5))))
