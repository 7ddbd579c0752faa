;; expect: limit memory
;; Attack: memory.grow with -1 pages (an unsigned 4 GiB request).
(module
  (memory (export "memory") 1)
  (func (export "run")
    (drop (memory.grow (i32.const -1)))))
