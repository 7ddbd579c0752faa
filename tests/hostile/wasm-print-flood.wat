;; expect: limit output
;; Attack: print a string in a loop forever.
(module
  (import "robot" "print" (func $print (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "flooding the output buffer")
  (func (export "run")
    (loop $more
      (call $print (i32.const 0) (i32.const 26))
      (br $more))))
