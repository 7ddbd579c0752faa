;; expect: limit memory
;; Attack: declare an initial memory of 60000 pages (3.7 GiB).
(module
  (memory (export "memory") 60000)
  (func (export "run")))
