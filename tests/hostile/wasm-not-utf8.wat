;; expect: error compile
;; Attack: the rest of this file is not valid UTF-8.
(module (func (export "run")) (data "ÿþÀ€"))
;; ÿþ
