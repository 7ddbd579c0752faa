;; expect: limit memory
;; Attack: grow memory one page at a time forever.
(module
  (memory (export "memory") 1)
  (func (export "run")
    (loop $more
      (drop (memory.grow (i32.const 1)))
      (br $more))))
