;; expect: error link
;; Attack: import a memory from another module (the host memory).
(module
  (import "env" "memory" (memory 1))
  (func (export "run")))
