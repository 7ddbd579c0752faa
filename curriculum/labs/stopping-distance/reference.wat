;; Reference: the same experiment as reference.rhai. Five speeds, measure the
;; stopping distance at each, least squares for d = k·v², print k × 0.6².
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "forward" (func $forward (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "print" (func $print (param i32 i32)))
  (import "robot" "print_num" (func $print_num (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (data (i32.const 16) "predicted stopping distance at 0.6 m/s (m):")
  (func $front (result f64) (call $distance (i32.const 0) (i32.const 5)))
  (func (export "run")
    (local $i i32) (local $p f64) (local $v f64) (local $v2 f64)
    (local $before f64) (local $after f64) (local $d f64)
    (local $sum_dv2 f64) (local $sum_v4 f64)
    (local.set $i (i32.const 1))
    (loop $trial
      ;; power p = 0.2 × i, speed v = 0.5 m/s × p
      (local.set $p (f64.mul (f64.const 0.2) (f64.convert_i32_u (local.get $i))))
      (local.set $v (f64.mul (f64.const 0.5) (local.get $p)))
      (call $motors (local.get $p) (local.get $p))
      (block $close
        (loop $run_up
          (br_if $close (f64.le (call $front) (f64.const 1.5)))
          (br $run_up)))
      (local.set $before (call $front))
      (call $stop)
      (call $wait (f64.const 1))
      (local.set $after (call $front))
      (local.set $d (f64.sub (local.get $before) (local.get $after)))
      (local.set $v2 (f64.mul (local.get $v) (local.get $v)))
      (local.set $sum_dv2 (f64.add (local.get $sum_dv2) (f64.mul (local.get $d) (local.get $v2))))
      (local.set $sum_v4 (f64.add (local.get $sum_v4) (f64.mul (local.get $v2) (local.get $v2))))
      (call $print_num (local.get $d))
      ;; back to about 2 m from the wall
      (call $forward (f64.neg (f64.sub (f64.const 2) (local.get $after))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $trial (i32.le_u (local.get $i) (i32.const 5))))
    (call $print (i32.const 16) (i32.const 43))
    ;; k = Σ d·v² / Σ v⁴; prediction = k × 0.36
    (call $print_num (f64.mul (f64.div (local.get $sum_dv2) (local.get $sum_v4)) (f64.const 0.36)))))
