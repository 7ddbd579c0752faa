;; A right-hand wall follower for maze.toml, in WebAssembly text.
;; Mirrors the Rhai version used by the determinism test.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "turn" (func $turn (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (import "robot" "bumper" (func $bumper (param i32 i32) (result i32)))
  (import "robot" "color" (func $color (param i32 i32 i32 i32) (result i32)))
  (import "robot" "time" (func $time (result f64)))
  (import "robot" "print" (func $print (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (data (i32.const 8) "right")
  (data (i32.const 16) "floor")
  (data (i32.const 32) "reached the exit")
  (func (export "run")
    (local $front f64) (local $right f64) (local $n i32)
    (block $out
      (loop $l
        (br_if $out (f64.ge (call $time) (f64.const 40)))
        (local.set $front (call $distance (i32.const 0) (i32.const 5)))
        (local.set $right (call $distance (i32.const 8) (i32.const 5)))
        (if (call $bumper (i32.const 0) (i32.const 5))
          (then
            (call $motors (f64.const -0.4) (f64.const -0.4))
            (call $wait (f64.const 0.3))
            (call $turn (f64.const 60)))
          (else
            (if (f64.lt (local.get $front) (f64.const 0.12))
              (then (call $stop) (call $turn (f64.const 90)))
              (else
                (if (f64.gt (local.get $right) (f64.const 0.30))
                  (then (call $motors (f64.const 0.6) (f64.const 0.25)))
                  (else
                    (if (f64.lt (local.get $right) (f64.const 0.12))
                      (then (call $motors (f64.const 0.3) (f64.const 0.6)))
                      (else (call $motors (f64.const 0.6) (f64.const 0.6))))))))))
        ;; color() writes the name at 64; "green" is 5 bytes starting with 'g' (103).
        (local.set $n (call $color (i32.const 16) (i32.const 5) (i32.const 64) (i32.const 16)))
        (if (i32.and (i32.eq (local.get $n) (i32.const 5))
                     (i32.eq (i32.load8_u (i32.const 64)) (i32.const 103)))
          (then (call $print (i32.const 32) (i32.const 16)) (br $out)))
        (br $l)))))
