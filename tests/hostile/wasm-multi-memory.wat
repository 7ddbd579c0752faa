;; expect: error compile
;; Attack: two memories (multi-memory is disabled).
(module
  (memory $a 1)
  (memory $b 1)
  (export "memory" (memory $a))
  (func (export "run")))
