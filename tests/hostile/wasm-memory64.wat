;; expect: error compile
;; Attack: a 64-bit memory (memory64 is disabled).
(module
  (memory (export "memory") i64 1)
  (func (export "run")))
