;; expect: limit output
;; Attack: print 1 MiB of text in a single call (over the 64 KiB output limit).
(module
  (import "robot" "print" (func $print (param i32 i32)))
  (memory (export "memory") 17)
  (func (export "run")
    (memory.fill (i32.const 0) (i32.const 0x41) (i32.const 1048576))
    (call $print (i32.const 0) (i32.const 1048576))))
