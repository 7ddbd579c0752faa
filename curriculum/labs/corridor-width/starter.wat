;; 测量走廊宽度 / Measure the corridor (WebAssembly text)
;; 开到蓝色测量站，算出走廊宽度并用 print_num 打印。
;; Drive to the blue station, work out the width and print it with print_num.
;; 现在：机器人开到蓝色测量站停下，只打印了左边的距离。
;; Now: the robot drives to the blue station, stops and prints only the left distance.
;; 改这里 / change this: width = left + right + 2 × 0.09 (average several readings).
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (import "robot" "print_num" (func $print_num (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "right")
  (data (i32.const 16) "floor")
  ;; color("floor") is "blue": 4 bytes, 'b' (98) then 'l' (108). Written at 32.
  (func $on_blue (result i32)
    (i32.and
      (i32.eq (call $color (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 16)) (i32.const 4))
      (i32.and (i32.eq (i32.load8_u (i32.const 32)) (i32.const 98))
               (i32.eq (i32.load8_u (i32.const 33)) (i32.const 108)))))
  (func (export "run")
    (call $motors (f64.const 0.6) (f64.const 0.6))
    (block $there
      (loop $drive
        (br_if $there (call $on_blue))
        (br $drive)))
    (call $stop)
    (call $wait (f64.const 0.5))
    ;; TODO: add distance("right") and the body, 2 × 0.09 m
    (call $print_num (call $distance (i32.const 0) (i32.const 4)))))
