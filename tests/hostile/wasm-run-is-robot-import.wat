;; expect: finished
;; Attack: re-export a robot import as `run` so the host calls itself.
(module
  (import "robot" "stop" (func $stop))
  (export "run" (func $stop)))
