;; expect: error runtime
;; Attack: print text that lies past the end of memory.
(module
  (import "robot" "print" (func $print (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (call $print (i32.const 65530) (i32.const 100))))
