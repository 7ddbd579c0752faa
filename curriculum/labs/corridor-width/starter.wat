;; 测量走廊宽度 / Measure the corridor (WebAssembly text)
;; 开到蓝色测量站，算出走廊宽度并用 print_num 打印。
;; Drive to the blue station, work out the width and print it with print_num.
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
  (func (export "run")
    ;; TODO: drive until color("floor") is "blue", stop, then measure.
    (call $print_num (call $distance (i32.const 0) (i32.const 4)))))
