;; 走正方形 / Drive a square (WebAssembly text)
;; 现在：只走了一条边、转了一个弯。改这里：重复 4 次（用 loop 和一个计数器）。
;; Now: one side and one corner. Change this: repeat them 4 times (a loop and a counter).
(module
  (import "robot" "forward" (func $forward (param f64)))
  (import "robot" "turn" (func $turn (param f64)))
  (func (export "run")
    (call $forward (f64.const 0.5))
    (call $turn (f64.const 90))))
