;; Reference: the same measurement as reference.rhai. Drive to the blue station,
;; average 20 readings of left + right, add the body (2 × 0.09 m), print_num.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "forward" (func $forward (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (import "robot" "print" (func $print (param i32 i32)))
  (import "robot" "print_num" (func $print_num (param f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "right")
  (data (i32.const 16) "floor")
  (data (i32.const 64) "corridor width (m):")
  ;; color() writes the floor colour's name at 32.
  (func $on_blue (result i32)
    ;; "blue": 4 bytes starting with 'b' (98), second byte 'l' (108)
    (i32.and
      (i32.eq (call $color (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 16)) (i32.const 4))
      (i32.and (i32.eq (i32.load8_u (i32.const 32)) (i32.const 98))
               (i32.eq (i32.load8_u (i32.const 33)) (i32.const 108)))))
  (func (export "run")
    (local $sum f64) (local $i i32)
    (call $motors (f64.const 0.6) (f64.const 0.6))
    (block $there
      (loop $drive
        (br_if $there (call $on_blue))
        (br $drive)))
    (call $forward (f64.const 0.15))
    (call $stop)
    (call $wait (f64.const 0.5))
    (block $done
      (loop $sample
        (br_if $done (i32.ge_u (local.get $i) (i32.const 20)))
        (local.set $sum
          (f64.add (local.get $sum)
                   (f64.add (call $distance (i32.const 0) (i32.const 4))
                            (call $distance (i32.const 8) (i32.const 5)))))
        (call $wait (f64.const 0.05))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sample)))
    (call $print (i32.const 64) (i32.const 19))
    ;; width = sum / 20 + 2 × 0.09
    (call $print_num (f64.add (f64.div (local.get $sum) (f64.const 20)) (f64.const 0.18)))))
