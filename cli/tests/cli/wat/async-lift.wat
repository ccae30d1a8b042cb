;; A component that uses the component model's async ABI: an export lifted
;; with the `async` option that answers with `task.return`.
(component
  (core module $m
    (import "" "task.return" (func $ret (param i32)))
    (func (export "run") (result i32)
      (call $ret (i32.const 42))
      (i32.const 0))
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core func $ret (canon task.return (result u32)))
  (core instance $i (instantiate $m (with "" (instance (export "task.return" (func $ret))))))
  (func (export "run") async (result u32)
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
)
