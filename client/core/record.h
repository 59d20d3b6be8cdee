// One page's record (schemas/record.schema.json), signed, and the result line that carries
// it to the coordinator, compressed as one zstd frame so an upload is just the outbox's
// frames laid end to end.
#pragma once

#include <boost/json/object.hpp>
#include <span>
#include <string>
#include <vector>

#include "client/core/fetcher.h"
#include "client/core/node_store.h"
#include "common/crypto.h"
#include "common/extract.h"
#include "common/protocol.h"

namespace meadow::client {

// What the page itself yields: lang, title, description, canonical_url, text, links, author,
// published, modified, site_name, jsonld, opengraph, the job's fields, the body and text
// hashes, simhash and extractor. `meadow-node extract` prints just these.
// `hashes`: the SHA-256 of `body` and of page.text when already known (frame_results hashes
// many pages' at once); computed here when null.
struct PageHashes {
  crypto::Sha256 body;
  crypto::Sha256 text;
};
void add_page_fields(boost::json::object& r, const extract::Page& page, std::string_view body,
                     const PageHashes* hashes = nullptr);

// The record for a fetched page. record_id is derived from (node, task, token), so a
// retried upload of the same fetch carries the same id. `hashes` as for add_page_fields.
boost::json::object build_record(const protocol::TaskLease& task, const FetchResult& fetch, const extract::Page& page,
                                  const std::string& node_id, const PageHashes* hashes = nullptr);

// Extracts, builds, signs and frames: the result line for a fetch, as one zstd frame of
// one NDJSON line. A fetch that did not succeed becomes a line with its outcome and reason.
struct FramedResult {
  std::string frame;
  std::string record_id;  // empty when there is no record
  std::string error;      // why extraction failed (the line then reports "failed")
  std::vector<std::string> field_problems;  // job fields whose selector failed on this page
};
FramedResult frame_result(const protocol::TaskLease& task, const FetchResult& fetch, const crypto::KeyPair& key,
                          const std::string& node_id);

// frame_result() of several fetches, in order. Their bodies and texts are hashed together
// (crypto::sha256_many) and their records signed together (protocol::signed_ok_lines_json),
// which costs less per page than one at a time.
struct FrameJob {
  const protocol::TaskLease* task = nullptr;
  const FetchResult* fetch = nullptr;
};
std::vector<FramedResult> frame_results(std::span<const FrameJob> jobs, const crypto::KeyPair& key,
                                        const std::string& node_id);

// The activity-log row for a task's fetch and its framed result (state left for the store).
Contribution contribution_of(const protocol::TaskLease& task, const FetchResult& fetch, const FramedResult& framed);

}  // namespace meadow::client
