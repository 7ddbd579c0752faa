;; expect: error runtime
;; Attack: store at address -8 (0xFFFFFFF8) with an offset, hoping to wrap around.
(module
  (memory (export "memory") 1)
  (func (export "run")
    (i64.store offset=16 (i32.const -8) (i64.const -1))))
