//! Copying big byte strings without the `rep movsb` aliasing stall.
//!
//! glibc's memcpy copies blocks above a couple of KB with `rep movsb`. On this
//! machine's CPU that instruction runs about six times slower when the
//! destination sits 1 to 63 bytes after the source modulo 4096 (the stores
//! alias the loads that follow them in the page): a 512 KB copy took 158 µs
//! instead of 26 µs. Big values are page-aligned allocations, and a bulk reply
//! writes its payload right after a `$524288\r\n` header in a page-aligned
//! reply buffer, so GET of a big value hit that case on every call (GET of
//! 512 KB values spent more than half its CPU in that one copy). In that window
//! the copy goes through 16-byte vector loads and stores instead, which do not
//! stall (30 µs for the same copy); everywhere else memcpy stays.

/// Below this, memcpy does not use `rep movsb` and the stall cannot happen.
const BIG: usize = 4096;

/// Whether copying `src` to `dst` would hit the aliasing stall.
fn stalls(dst: *const u8, src: *const u8, len: usize) -> bool {
    let delta = (dst as usize).wrapping_sub(src as usize) & 4095;
    len >= BIG && (1..64).contains(&delta)
}

/// Appends `src` to `dst` (as `extend_from_slice`).
pub fn extend_bytes(dst: &mut Vec<u8>, src: &[u8]) {
    dst.reserve(src.len());
    let at = dst.len();
    let to = dst.spare_capacity_mut().as_mut_ptr() as *mut u8;
    if stalls(to, src.as_ptr(), src.len()) {
        // SAFETY: `reserve` made room for `src.len()` bytes after the length;
        // the copy initialises exactly them, and `src` cannot overlap the
        // spare capacity of a Vec we hold mutably.
        unsafe {
            vector_copy(to, src.as_ptr(), src.len());
            dst.set_len(at + src.len());
        }
    } else {
        dst.extend_from_slice(src);
    }
}

/// A new Vec holding `src` (as `to_vec`).
pub fn copy_bytes(src: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(src.len());
    extend_bytes(&mut v, src);
    v
}

/// Copies `len` bytes with 16-byte SSE2 loads and stores (every x86_64 has
/// them), then the tail byte by byte.
///
/// # Safety
/// `src` must be readable and `dst` writable for `len` bytes, not overlapping.
#[cfg(target_arch = "x86_64")]
unsafe fn vector_copy(dst: *mut u8, src: *const u8, len: usize) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};
    let mut i = 0;
    while i + 64 <= len {
        // SAFETY: i + 64 <= len, within both ranges (caller's contract).
        unsafe {
            let a = _mm_loadu_si128(src.add(i) as *const __m128i);
            let b = _mm_loadu_si128(src.add(i + 16) as *const __m128i);
            let c = _mm_loadu_si128(src.add(i + 32) as *const __m128i);
            let d = _mm_loadu_si128(src.add(i + 48) as *const __m128i);
            _mm_storeu_si128(dst.add(i) as *mut __m128i, a);
            _mm_storeu_si128(dst.add(i + 16) as *mut __m128i, b);
            _mm_storeu_si128(dst.add(i + 32) as *mut __m128i, c);
            _mm_storeu_si128(dst.add(i + 48) as *mut __m128i, d);
        }
        i += 64;
    }
    // SAFETY: the remaining len - i bytes are within both ranges.
    unsafe { std::ptr::copy_nonoverlapping(src.add(i), dst.add(i), len - i) };
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn vector_copy(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller's contract is memcpy's.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, len) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_equal_memcpy_at_every_offset() {
        // A page-aligned source inside a bigger buffer, destinations at the
        // offsets that take the vector path and at some that do not.
        let backing: Vec<u8> = (0..3 * 8192u32).map(|i| (i * 31 % 251) as u8).collect();
        let skew = (4096 - backing.as_ptr() as usize % 4096) % 4096;
        for len in [0usize, 1, 63, 4095, 4096, 4097, 5000, 8191] {
            let src = &backing[skew..skew + len];
            for pre in [0usize, 1, 9, 15, 16, 63, 64, 65, 100] {
                let mut dst = vec![7u8; pre];
                extend_bytes(&mut dst, src);
                assert_eq!(&dst[..pre], &vec![7u8; pre][..]);
                assert_eq!(&dst[pre..], src, "len {len} pre {pre}");
            }
            assert_eq!(copy_bytes(src), src);
        }
    }

    #[test]
    fn vector_copy_equals_memcpy() {
        let src: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 253) as u8).collect();
        for len in [0usize, 1, 15, 16, 63, 64, 65, 127, 128, 129, 4096, 9999] {
            for off in [0usize, 1, 9, 33] {
                let mut dst = vec![0u8; len + off + 1];
                // SAFETY: both ranges hold len bytes and are distinct Vecs.
                unsafe { vector_copy(dst.as_mut_ptr().add(off), src.as_ptr(), len) };
                assert_eq!(&dst[off..off + len], &src[..len]);
                assert!(dst[..off].iter().all(|&b| b == 0) && dst[off + len] == 0);
            }
        }
    }

    #[test]
    fn the_window_is_one_to_63_bytes_ahead_for_big_copies() {
        let p = 0x10000 as *const u8;
        assert!(!stalls(p, p, BIG));
        assert!(stalls(p.wrapping_add(9), p, BIG));
        assert!(stalls(p.wrapping_add(4096 + 63), p, BIG));
        assert!(!stalls(p.wrapping_add(64), p, BIG));
        assert!(!stalls(p.wrapping_add(9), p, BIG - 1));
        assert!(!stalls(p, p.wrapping_add(9), BIG));
    }
}
