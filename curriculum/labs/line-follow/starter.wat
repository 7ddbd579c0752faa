;; 巡线一圈 / Follow the line for one lap (WebAssembly text)
;; 现在：一直直着开，不看线。改这里：读 line("left") 和 line("right")，
;; 左边更黑就左转（左轮慢、右轮快），右边更黑就右转。
;; Now: drives straight, ignoring the line. Change this: read line("left") and
;; line("right"); steer left (left wheel slower) when the left is darker, right when the right is.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "line" (func $line (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "right")
  (func (export "run")
    (loop $follow
      (call $motors (f64.const 0.3) (f64.const 0.3))
      (br $follow))))
