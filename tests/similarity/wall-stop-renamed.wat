(module
  ;; copied and "improved"
  (import "robot" "motors" (func $go (param f64 f64)))
  (import "robot" "stop" (func $halt))
  (import "robot" "wait" (func $pause (param f64)))
  (import "robot" "distance" (func $dist (param i32 i32) (result f64)))
  (import "robot" "print_num" (func $show (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (call $go (f64.const 0.7) (f64.const 0.7))
    (block $out (loop $fast
        (br_if $out (f64.le (call $dist (i32.const 0) (i32.const 5)) (f64.const 0.3)))
        (br $fast)))
    (call $go (f64.const 0.15) (f64.const 0.15))
    (block $out (loop $crawl
        (br_if $out (f64.le (call $dist (i32.const 0) (i32.const 5)) (f64.const 0.12)))
        (br $crawl)))
    (call $halt)
    (call $pause (f64.const 0.4))
    (call $show (call $dist (i32.const 0) (i32.const 5)))))
