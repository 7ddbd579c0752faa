;; expect: error runtime
;; Attack: an active data segment that runs past the end of memory (traps at instantiation).
(module
  (memory (export "memory") 1)
  (data (i32.const 65530) "0123456789")
  (func (export "run")))
