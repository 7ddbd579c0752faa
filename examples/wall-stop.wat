;; Drive towards the wall and stop about 10 cm before it (WebAssembly text).
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "print_num" (func $print_num (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (call $motors (f64.const 0.6) (f64.const 0.6))
    (block $done
      (loop $drive
        (br_if $done (f64.le (call $distance (i32.const 0) (i32.const 5)) (f64.const 0.25)))
        (br $drive)))
    (call $motors (f64.const 0.2) (f64.const 0.2))
    (block $done
      (loop $slow
        (br_if $done (f64.le (call $distance (i32.const 0) (i32.const 5)) (f64.const 0.11)))
        (br $slow)))
    (call $stop)
    (call $wait (f64.const 0.5))
    (call $print_num (call $distance (i32.const 0) (i32.const 5)))))
