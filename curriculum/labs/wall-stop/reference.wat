;; Reference: the same proportional approach as reference.rhai.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "stop" (func $stop))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (local $gap f64) (local $speed f64)
    (block $done
      (loop $drive
        (local.set $gap (call $distance (i32.const 0) (i32.const 5)))
        (br_if $done (f64.le (local.get $gap) (f64.const 0.12)))
        (local.set $speed
          (select (f64.const 0.8) (f64.add (f64.const 0.1) (local.get $gap))
                  (f64.gt (local.get $gap) (f64.const 0.5))))
        (call $motors (local.get $speed) (local.get $speed))
        (br $drive)))
    (call $stop)
    (call $wait (f64.const 1))))
