;; 走正方形 / Drive a square (WebAssembly text)
(module
  (import "robot" "forward" (func $forward (param f64)))
  (import "robot" "turn" (func $turn (param f64)))
  (func (export "run")
    (call $forward (f64.const 0.5))
    (call $turn (f64.const 90))))
