;; expect: limit output
;; Attack: print_num in a loop forever.
(module
  (import "robot" "print_num" (func $print_num (param f64)))
  (func (export "run")
    (loop $more
      (call $print_num (f64.const 3.141592653589793))
      (br $more))))
