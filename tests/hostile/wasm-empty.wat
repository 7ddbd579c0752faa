;; expect: error compile
;; Attack: an empty program (only comments, no module at all).
