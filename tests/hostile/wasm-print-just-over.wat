;; expect: limit output
;; Attack (boundary): print 65537 bytes in one call, one byte over the output limit.
(module
  (import "robot" "print" (func $print (param i32 i32)))
  (memory (export "memory") 2)
  (func (export "run")
    (memory.fill (i32.const 0) (i32.const 0x42) (i32.const 65537))
    (call $print (i32.const 0) (i32.const 65537))))
