;; Reference: the same controller as reference.rhai — proportional on
;; distance("left") plus a damping term on how the distance changes.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "floor")
  ;; color() writes the floor colour's name at 32.
  (func (export "run")
    (local $d f64) (local $last f64) (local $steer f64) (local $n i32)
    (local.set $last (call $distance (i32.const 0) (i32.const 4)))
    (block $done
      (loop $drive
        ;; "yellow": 6 bytes starting with 'y' (121)
        (local.set $n (call $color (i32.const 8) (i32.const 5) (i32.const 32) (i32.const 16)))
        (br_if $done (i32.and (i32.eq (local.get $n) (i32.const 6))
                              (i32.eq (i32.load8_u (i32.const 32)) (i32.const 121))))
        (local.set $d (call $distance (i32.const 0) (i32.const 4)))
        ;; steer = 0.3 × (d − 0.25) + 10 × (d − last), limited to ±0.08
        (local.set $steer
          (f64.add (f64.mul (f64.const 0.3) (f64.sub (local.get $d) (f64.const 0.25)))
                   (f64.mul (f64.const 10) (f64.sub (local.get $d) (local.get $last)))))
        (local.set $steer (f64.max (f64.const -0.08) (f64.min (f64.const 0.08) (local.get $steer))))
        (local.set $last (local.get $d))
        (call $motors (f64.sub (f64.const 0.6) (local.get $steer))
                      (f64.add (f64.const 0.6) (local.get $steer)))
        (call $wait (f64.const 0.05))
        (br $drive)))
    (call $stop)
    (call $wait (f64.const 0.5))))
