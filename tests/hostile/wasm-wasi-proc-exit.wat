;; expect: error link
;; Attack: import WASI proc_exit to kill the host process.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "run")
    (call $exit (i32.const 1))))
