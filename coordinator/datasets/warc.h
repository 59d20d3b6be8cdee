// Raw captures as WARC 1.1 (ISO 28500:2017), for datasets of jobs that ask for captures.
//
// A node sends, with each record of such a job, the final request head as sent, the response's
// status line and header fields as received (record.raw, signed with the record) and the
// response body (outside the record, bound to it by the signed body_sha256). From them this
// makes a `request` and a `response` record per page:
//
//   response  WARC-Target-URI (the final URL), WARC-Date (the fetch time), WARC-IP-Address,
//             WARC-Payload-Digest and WARC-Block-Digest (sha256, base32), WARC-Truncated:
//             length when the node cut the body at its cap, Content-Type
//             application/http;msgtype=response. The body is the one the node decoded
//             (gzip, br ... undone, as its page cap counts decoded bytes), so the stored header
//             fields drop Content-Encoding, Transfer-Encoding and Content-Length and end with
//             the Content-Length of the body kept.
//   request   the request head as sent, WARC-Concurrent-To the response.
//
// Record ids are urn:uuid values derived from the record_id, so sealing the same shard again
// gives the same bytes. A captures file starts with a `warcinfo` record, and each record is
// its own zstd frame (the IIPC zstd-WARC proposal: no record shares a frame).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meadow::coordinator::datasets {

// The WARC records of one captured page, in file order (request, then response; only the
// response when the record has no request head). Empty when the record carries no `raw`.
std::vector<std::string> capture_records(const boost::json::object& record, std::string_view body);

// The warcinfo record that opens a captures file.
std::string warcinfo_record(std::string_view filename, std::int64_t job_id, std::string_view date);

// RFC 4648 base32 (upper case, padded), as WARC digests are written.
std::string base32(std::string_view bytes);

}  // namespace meadow::coordinator::datasets
