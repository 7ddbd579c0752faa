;; expect: error compile
;; Attack: throw a wasm exception out of `run` (the exceptions proposal is disabled).
(module
  (tag $boom (param i32))
  (func (export "run")
    (throw $boom (i32.const 42))))
