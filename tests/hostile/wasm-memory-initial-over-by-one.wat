;; expect: limit memory
;; Attack (boundary): an initial memory one page over the 32 MiB limit.
(module
  (memory (export "memory") 513)
  (func (export "run")))
