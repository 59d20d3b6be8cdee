#include "common/merkle.h"

#include <cstring>

namespace meadow::merkle {
namespace {

crypto::Sha256 prefixed(std::uint8_t prefix, const crypto::Sha256& a, const crypto::Sha256* b) {
  unsigned char buf[65];
  buf[0] = prefix;
  std::memcpy(buf + 1, a.data(), 32);
  std::size_t n = 33;
  if (b) {
    std::memcpy(buf + 33, b->data(), 32);
    n = 65;
  }
  return crypto::sha256(std::string_view(reinterpret_cast<const char*>(buf), n));
}

}  // namespace

crypto::Sha256 leaf_hash(const crypto::Sha256& record_hash) { return prefixed(0x00, record_hash, nullptr); }

crypto::Sha256 node_hash(const crypto::Sha256& left, const crypto::Sha256& right) {
  return prefixed(0x01, left, &right);
}

crypto::Sha256 root(const std::vector<crypto::Sha256>& record_hashes) {
  if (record_hashes.empty()) return crypto::sha256("");
  // A stack of complete subtrees, each with its leaf count (a binary counter). Adding a leaf
  // merges equal-sized neighbours; at the end the stack is folded right to left, which gives
  // RFC 6962's split (left = largest power of two below n).
  struct Sub {
    crypto::Sha256 hash;
    std::size_t size;
  };
  std::vector<Sub> stack;
  for (const auto& h : record_hashes) {
    Sub s{leaf_hash(h), 1};
    while (!stack.empty() && stack.back().size == s.size) {
      s = Sub{node_hash(stack.back().hash, s.hash), s.size * 2};
      stack.pop_back();
    }
    stack.push_back(s);
  }
  crypto::Sha256 acc = stack.back().hash;
  for (std::size_t i = stack.size() - 1; i-- > 0;) acc = node_hash(stack[i].hash, acc);
  return acc;
}

}  // namespace meadow::merkle
