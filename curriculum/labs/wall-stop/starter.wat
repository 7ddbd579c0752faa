;; 墙前停车 / Stop before the wall (WebAssembly text)
;; 现在：机器人以同一个速度开，离墙 0.5 米就停——停得太早了。
;; Now: the robot drives at one speed and stops 0.5 m from the wall — too early.
;; 要改的地方 / What to change: stop 5–20 cm from the wall (e.g. at 0.12 m), and
;; slow down as the gap shrinks (motors(speed, speed) with speed = gap × 2 inside the loop).
;; 程序一结束电机就停 / the motors stop when the program ends: keep looping until you are there.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (call $motors (f64.const 0.5) (f64.const 0.5))
    (block $near
      (loop $drive
        ;; 改这里 / change this: 0.5 m is too far from the wall
        (br_if $near (f64.le (call $distance (i32.const 0) (i32.const 5)) (f64.const 0.5)))
        (br $drive)))
    (call $stop)
    (call $wait (f64.const 1))))
