;; 巡线一圈 / Follow the line for one lap (WebAssembly text)
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
