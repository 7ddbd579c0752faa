;; expect: time_up
;; Attack: repeat a 32 MiB memory.fill forever (bulk operations must cost fuel too).
(module
  (memory (export "memory") 512)
  (func (export "run")
    (loop $spin
      (memory.fill (i32.const 0) (i32.const 0x41) (i32.const 33554432))
      (memory.copy (i32.const 0) (i32.const 16777216) (i32.const 16777216))
      (br $spin))))
