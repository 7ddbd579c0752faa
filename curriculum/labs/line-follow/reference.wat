;; Reference: the proportional follower of reference.rhai in WebAssembly text.
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "line" (func $line (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "left")
  (data (i32.const 8) "center")
  (data (i32.const 16) "right")
  (func (export "run")
    (local $l f64) (local $c f64) (local $r f64)
    (local $error f64) (local $turn f64) (local $speed f64) (local $last f64)
    (loop $follow
      (local.set $l (call $line (i32.const 0) (i32.const 4)))
      (local.set $c (call $line (i32.const 8) (i32.const 6)))
      (local.set $r (call $line (i32.const 16) (i32.const 5)))
      (if (f64.lt (f64.add (f64.add (local.get $l) (local.get $c)) (local.get $r)) (f64.const 0.05))
        (then
          ;; Lost the line: turn the way we were last turning.
          (if (f64.ge (local.get $last) (f64.const 0))
            (then (call $motors (f64.const -0.1) (f64.const 0.35)))
            (else (call $motors (f64.const 0.35) (f64.const -0.1)))))
        (else
          (local.set $error (f64.sub (local.get $l) (local.get $r)))
          (local.set $last (local.get $error))
          (local.set $turn (f64.mul (f64.const 0.7) (local.get $error)))
          (local.set $speed (f64.sub (f64.const 0.45) (f64.mul (f64.const 0.25) (f64.abs (local.get $error)))))
          (call $motors (f64.sub (local.get $speed) (local.get $turn)) (f64.add (local.get $speed) (local.get $turn)))))
      (br $follow))))
