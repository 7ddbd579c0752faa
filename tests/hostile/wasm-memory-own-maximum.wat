;; expect: finished
;; Attack: grow past the declared maximum of the module; memory.grow must just return -1.
(module
  (memory (export "memory") 1 2)
  (func (export "run")
    (if (i32.ne (memory.grow (i32.const 5)) (i32.const -1))
      (then unreachable))))
