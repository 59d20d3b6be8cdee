// The Merkle tree over a dataset's records, so a buyer can check that the records they hold
// are exactly the ones the coordinator signed, and a contributor can prove one record is in it.
//
// The tree is RFC 6962's Merkle Tree Hash (as in Certificate Transparency) over the records'
// SHA-256 hashes: a leaf is SHA-256(0x00 || record hash), an inner node SHA-256(0x01 || left ||
// right), the left subtree holding the largest power of two below the number of leaves. The
// root of no leaves is SHA-256 of the empty string.
#pragma once

#include <vector>

#include "common/crypto.h"

namespace meadow::merkle {

crypto::Sha256 leaf_hash(const crypto::Sha256& record_hash);
crypto::Sha256 node_hash(const crypto::Sha256& left, const crypto::Sha256& right);

// The root over record hashes in dataset order. Linear time, logarithmic extra memory.
crypto::Sha256 root(const std::vector<crypto::Sha256>& record_hashes);

}  // namespace meadow::merkle
