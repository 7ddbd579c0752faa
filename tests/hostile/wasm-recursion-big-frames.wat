;; expect: limit stack
;; Attack: recursion whose frames carry many live locals.
(module
  (func $down (param $n i64) (result i64)
    (local $a i64) (local $b i64) (local $c i64) (local $d i64)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local.set $a (i64.mul (local.get $n) (i64.const 3)))
    (local.set $b (i64.add (local.get $a) (i64.const 5)))
    (local.set $c (i64.xor (local.get $b) (local.get $n)))
    (local.set $d (i64.sub (local.get $c) (local.get $a)))
    (i64.add (i64.add (local.get $a) (local.get $b))
      (i64.add (local.get $c)
        (i64.add (local.get $d) (call $down (i64.add (local.get $n) (i64.const 1)))))))
  (func (export "run")
    (drop (call $down (i64.const 0)))))
