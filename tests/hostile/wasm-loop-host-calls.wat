;; expect: time_up
;; Attack: spin forever on cheap host calls (heading, time).
(module
  (import "robot" "heading" (func $heading (result f64)))
  (import "robot" "time" (func $time (result f64)))
  (func (export "run")
    (loop $spin
      (drop (call $heading))
      (drop (call $time))
      (br $spin))))
