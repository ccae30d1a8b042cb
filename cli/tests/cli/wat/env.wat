;; A component that asks the host for one environment variable through
;; `sandbox:host/environment` and returns the answer:
;;   get-env: func(name: string) -> option<string>
(component
  (import "sandbox:host/environment@0.1.0" (instance $env
    (export "get" (func (param "name" string) (result (option string))))))

  ;; Memory and a bump allocator for the canonical ABI.
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      ;; Align up, hand out, move on.
      (local.set $at
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))

  (core func $get (canon lower (func $env "get")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))

  (core module $main
    (import "host" "get" (func $get (param i32 i32 i32)))
    ;; (name ptr, name len) -> pointer to the option<string> at 16
    (func (export "get-env") (param i32 i32) (result i32)
      (call $get (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16)))
  (core instance $main (instantiate $main
    (with "host" (instance (export "get" (func $get))))))

  (func (export "get-env") (param "name" string) (result (option string))
    (canon lift (core func $main "get-env")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
)
