// Sixteen bytes at a time, with the compiler's vector types: SSE2 on x86-64, NEON on ARM,
// plain loops elsewhere. For the text scans that run over every byte of every page.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace meadow {

// Sixteen one-byte lanes. A comparison gives 0xFF in each lane where it holds, 0 elsewhere.
using Bytes16 = std::uint8_t __attribute__((vector_size(16)));

inline Bytes16 load16(const char* p) noexcept {
  Bytes16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Whether any lane is not zero.
inline bool any_lane(Bytes16 v) noexcept {
  std::uint64_t half[2];
  std::memcpy(half, &v, sizeof half);
  return (half[0] | half[1]) != 0;
}

// Lanes whose byte is b.
inline Bytes16 lanes_equal(Bytes16 v, std::uint8_t b) noexcept { return reinterpret_cast<Bytes16>(v == b); }

// Lanes whose byte lies in [lo, lo + span], compared without sign.
inline Bytes16 lanes_in(Bytes16 v, std::uint8_t lo, std::uint8_t span) noexcept {
  return reinterpret_cast<Bytes16>(static_cast<Bytes16>(v - lo) <= span);
}

// Bit k is the top bit of lane k: on a comparison, the lanes where it holds; on text, the
// bytes that are not ASCII.
inline unsigned lane_bits(Bytes16 v) noexcept {
#if defined(__SSE2__)
  return static_cast<unsigned>(_mm_movemask_epi8(reinterpret_cast<__m128i>(v)));
#else
  unsigned bits = 0;
  for (int k = 0; k < 16; ++k) bits |= static_cast<unsigned>(v[k] >> 7) << k;
  return bits;
#endif
}

}  // namespace meadow
