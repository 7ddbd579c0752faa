;; 刹车距离 / Stopping distance (WebAssembly text)
;; 测几个速度下的刹车距离，拟合 d = k·v²，用 print_num 打印 0.6 m/s 时的预测值。
;; Measure stopping distances at several speeds, fit d = k·v², print_num the prediction at 0.6 m/s.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "forward" (func $forward (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "print_num" (func $print_num (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (local $before f64)
    (call $motors (f64.const 0.6) (f64.const 0.6))
    (block $close
      (loop $run_up
        (br_if $close (f64.le (call $distance (i32.const 0) (i32.const 5)) (f64.const 1.5)))
        (br $run_up)))
    (local.set $before (call $distance (i32.const 0) (i32.const 5)))
    (call $stop)
    (call $wait (f64.const 1))
    ;; TODO: measure the distance after stopping, repeat at other speeds, fit, predict.
    (call $print_num (local.get $before))))
