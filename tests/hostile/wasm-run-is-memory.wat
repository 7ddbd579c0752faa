;; expect: error link
;; Attack: export a memory under the name `run`.
(module
  (memory (export "run") 1))
