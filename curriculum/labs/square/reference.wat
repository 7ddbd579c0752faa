;; Reference: four sides, four left turns, as a counted loop.
(module
  (import "robot" "forward" (func $forward (param f64)))
  (import "robot" "turn" (func $turn (param f64)))
  (func (export "run")
    (local $side i32)
    (loop $sides
      (call $forward (f64.const 0.5))
      (call $turn (f64.const 90))
      (local.set $side (i32.add (local.get $side) (i32.const 1)))
      (br_if $sides (i32.lt_u (local.get $side) (i32.const 4))))))
