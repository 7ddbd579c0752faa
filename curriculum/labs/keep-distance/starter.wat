;; 保持距离 / Keep your distance (WebAssembly text)
;; 墙在左边：离墙保持 0.25 米，开到黄色终点停下。
;; The wall is on the left: stay 0.25 m from it and stop on the yellow end zone.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "floor")
  (func (export "run")
    (local $d f64)
    (local.set $d (call $distance (i32.const 0) (i32.const 4)))
    ;; TODO: loop — read distance("left"), steer towards 0.25 m, stop on yellow.
    (call $motors (f64.const 0.6) (f64.const 0.6))))
