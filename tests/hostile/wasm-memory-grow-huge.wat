;; expect: limit memory
;; Attack: one memory.grow asking for 4 GiB.
(module
  (memory (export "memory") 1)
  (func (export "run")
    (drop (memory.grow (i32.const 65535)))))
