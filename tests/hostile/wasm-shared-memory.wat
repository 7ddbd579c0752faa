;; expect: error compile
;; Attack: a shared memory, for atomics and wait/notify (threads are disabled).
(module
  (memory (export "memory") 1 1 shared)
  (func (export "run")
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
