;; expect: time_up
;; Attack: a bare `loop br` spin; fuel must end it when simulated time is up.
(module
  (func (export "run")
    (loop $spin
      (br $spin))))
