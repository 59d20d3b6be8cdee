// A dataset's manifest.json and its dataset card (README.md), written beside the shards each
// time a shard is sealed.
//
// The manifest lists every sealed shard (name, records, byte size, SHA-256, frames, the
// record cursors it covers), the Merkle root over the records' SHA-256 hashes in shard order
// (common/merkle.h), the record schema, the job's spec, created and updated times, and the
// coordinator's Ed25519 signature over canonical_json of every other member.
#pragma once

#include <string>
#include <vector>

#include "common/crypto.h"
#include "coordinator/store/catalog.h"
#include "coordinator/store/types.h"

namespace meadow::coordinator::datasets {

inline constexpr const char* kManifestFormat = "meadow-dataset/1";
inline constexpr const char* kRecordSchema = "https://meadow.invalid/schemas/record.schema.json";
inline constexpr const char* kRecordSchemaVersion = "1";

struct ManifestInput {
  Job job;
  DatasetSummary summary;
  std::vector<Shard> shards;
  std::vector<std::string> leaves;  // hex SHA-256 of each sealed record line, in shard order
  std::int64_t updated_ms = 0;
};

// The signed manifest, as pretty JSON text.
std::string manifest_json(const ManifestInput& in, const crypto::KeyPair& key);

// The dataset card: YAML front matter (pretty_name, configs/data_files, dataset_info with
// features, splits and sizes, size_categories) that dataset hubs read, then prose.
std::string dataset_card(const ManifestInput& in);

}  // namespace meadow::coordinator::datasets
