;; expect: finished
;; Attack (boundary): grow to exactly the 32 MiB limit and write its very last byte; this is allowed.
(module
  (memory (export "memory") 1)
  (func (export "run")
    (if (i32.eq (memory.grow (i32.const 511)) (i32.const -1))
      (then unreachable))
    (i32.store8 (i32.const 33554431) (i32.const 7))))
