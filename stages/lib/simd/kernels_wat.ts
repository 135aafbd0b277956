/**
 * The WebAssembly text of the SIMD kernels ({@link KERNELS_WAT}), compiled when
 * `stages/lib/simd/simd.ts` loads. Every function works on float32 arrays in the memory the
 * caller imports, addressed in bytes, four lanes at a time with a scalar loop for the last
 * `n mod 4` elements; each lane rounds exactly as the scalar float32 operations do, so results
 * do not depend on where an array starts or how long it is.
 *
 * @module
 */

/** The kernels' source. */
export const KERNELS_WAT = `
(module
  (import "env" "memory" (memory 1))

  ;; RMSprop over n elements, in place (float32, in PyTorch's order of operations):
  ;;   ms' = ms*rho + (keep*g)*g        (keep = 1 - rho, rounded once from float64)
  ;;   v'  = v + (-lr)*(g / (sqrt(ms' + inside) + outside))
  ;; PyTorch's formula is (inside, outside) = (0, eps), tfjs's (eps, 0).
  (func (export "rmsprop")
    (param $v i32) (param $g i32) (param $ms i32) (param $n i32)
    (param $lr f32) (param $rho f32) (param $keep f32) (param $inside f32) (param $outside f32)
    (local $neg f32) (local $end4 i32) (local $end i32)
    (local $gv v128) (local $mv v128) (local $gs f32) (local $ms1 f32)
    (local.set $neg (f32.neg (local.get $lr)))
    (local.set $end (i32.add (local.get $v) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $v)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $lanes
      (br_if $done4 (i32.ge_u (local.get $v) (local.get $end4)))
      (local.set $gv (v128.load (local.get $g)))
      (local.set $mv (f32x4.add
        (f32x4.mul (v128.load (local.get $ms)) (f32x4.splat (local.get $rho)))
        (f32x4.mul (f32x4.mul (f32x4.splat (local.get $keep)) (local.get $gv)) (local.get $gv))))
      (v128.store (local.get $ms) (local.get $mv))
      (v128.store (local.get $v) (f32x4.add (v128.load (local.get $v))
        (f32x4.mul (f32x4.splat (local.get $neg))
          (f32x4.div (local.get $gv)
            (f32x4.add
              (f32x4.sqrt (f32x4.add (local.get $mv) (f32x4.splat (local.get $inside))))
              (f32x4.splat (local.get $outside)))))))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $ms (i32.add (local.get $ms) (i32.const 16)))
      (br $lanes)))
    (block $done (loop $one
      (br_if $done (i32.ge_u (local.get $v) (local.get $end)))
      (local.set $gs (f32.load (local.get $g)))
      (local.set $ms1 (f32.add
        (f32.mul (f32.load (local.get $ms)) (local.get $rho))
        (f32.mul (f32.mul (local.get $keep) (local.get $gs)) (local.get $gs))))
      (f32.store (local.get $ms) (local.get $ms1))
      (f32.store (local.get $v) (f32.add (f32.load (local.get $v))
        (f32.mul (local.get $neg)
          (f32.div (local.get $gs)
            (f32.add (f32.sqrt (f32.add (local.get $ms1) (local.get $inside)))
              (local.get $outside))))))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $ms (i32.add (local.get $ms) (i32.const 4)))
      (br $one)))))
`;
