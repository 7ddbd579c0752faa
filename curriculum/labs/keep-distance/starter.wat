;; 保持距离 / Keep your distance (WebAssembly text)
;; 墙在左边：离墙保持 0.25 米，开到黄色终点停下。
;; The wall is on the left: stay 0.25 m from it and stop on the yellow end zone.
;; 现在：机器人直着往前开，不看墙，到黄色终点才停。
;; Now: the robot drives straight, ignoring the wall, and stops on yellow.
;; 改这里 / change this: in the loop, read distance("left") and steer:
;; steer = 0.3 × (d − 0.25), motors(0.6 − steer, 0.6 + steer).
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "floor")
  ;; color("floor") is "yellow": 6 bytes starting with 'y' (121). Written at 32.
  (func $on_yellow (result i32)
    (i32.and
      (i32.eq (call $color (i32.const 8) (i32.const 5) (i32.const 32) (i32.const 16)) (i32.const 6))
      (i32.eq (i32.load8_u (i32.const 32)) (i32.const 121))))
  (func (export "run")
    (local $d f64)
    (block $done
      (loop $drive
        (br_if $done (call $on_yellow))
        (local.set $d (call $distance (i32.const 0) (i32.const 4)))
        ;; TODO: steer from $d instead of driving straight
        (call $motors (f64.const 0.6) (f64.const 0.6))
        (call $wait (f64.const 0.05))
        (br $drive)))
    (call $stop)))
