;; expect: error compile
;; Attack: GC arrays live outside linear memory and the memory limit (the GC proposal must be disabled).
(module
  (type $bytes (array (mut i8)))
  (func (export "run")
    (loop $more
      (drop (array.new_default $bytes (i32.const 1000000000)))
      (br $more))))
