;; A component that runs a program through `sandbox:host/process` and
;; returns its exit status, or a negative number when it did not run:
;;   run-program: func(program: string) -> s32
;; -1 denied by the policy, -2 could not start, -3 timed out, -100 killed
;; by a signal.
(component
  (type $output (record
    (field "status" (option s32))
    (field "stdout" (list u8))
    (field "stderr" (list u8))
    (field "truncated" bool)))
  (type $spawn-error (variant
    (case "denied" string)
    (case "failed" string)
    (case "timed-out" u32)))
  (import "sandbox:host/process@0.1.0" (instance $process
    (export "output" (type $out (eq $output)))
    (export "spawn-error" (type $err (eq $spawn-error)))
    (export "run" (func (param "program" string) (param "args" (list string))
      (result (result $out (error $err)))))))

  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))

  (core func $run (canon lower (func $process "run")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))

  (core module $main
    (import "host" "run" (func $run (param i32 i32 i32 i32 i32)))
    (import "host" "memory" (memory 1))
    ;; The result<output, spawn-error> is written at 64:
    ;;   +0 u8 ok/err; ok: +4 option<s32> (u8 tag, s32 at +8), ...;
    ;;   err: +4 u8 case.
    (func (export "run-program") (param i32 i32) (result i32)
      (call $run (local.get 0) (local.get 1) (i32.const 0) (i32.const 0) (i32.const 64))
      (if (result i32) (i32.load8_u (i32.const 64))
        (then (i32.sub (i32.const -1) (i32.load8_u (i32.const 68))))
        (else
          (if (result i32) (i32.load8_u (i32.const 68))
            (then (i32.load (i32.const 72)))
            (else (i32.const -100)))))))
  (core instance $main (instantiate $main
    (with "host" (instance
      (export "run" (func $run))
      (export "memory" (memory $libc "memory"))))))

  (func (export "run-program") (param "program" string) (result s32)
    (canon lift (core func $main "run-program")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
)
