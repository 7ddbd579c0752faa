;; expect: error runtime
;; Attack: load from far past the end of a one-page memory.
(module
  (memory (export "memory") 1)
  (func (export "run")
    (drop (i64.load (i32.const 1000000)))))
