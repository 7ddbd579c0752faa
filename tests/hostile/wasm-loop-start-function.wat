;; expect: time_up
;; Attack: spin forever in the start function, before `run` is ever called.
(module
  (func $init
    (loop $spin
      (br $spin)))
  (start $init)
  (func (export "run")))
