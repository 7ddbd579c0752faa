;; expect: error compile
;; Attack: text that is not WebAssembly at all.
(module
  (func (export "run")
    (i32.add (i32.const 1))   ;; type error: one operand missing
    (this is not wat)))
