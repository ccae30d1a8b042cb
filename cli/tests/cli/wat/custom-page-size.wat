;; A valid component that wasmtime (with its defaults) will not compile: its
;; core module uses the custom-page-sizes proposal. `inspect` reads it anyway.
(component
  (core module $m
    (memory 1 (pagesize 1))
    (func (export "f") (result i32) i32.const 7))
  (core instance $i (instantiate $m))
  (func (export "seven") (result s32) (canon lift (core func $i "f")))
)
