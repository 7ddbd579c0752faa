;; expect: error link
;; Attack: import a memory named like a robot item.
(module
  (import "robot" "memory" (memory 1))
  (func (export "run")))
