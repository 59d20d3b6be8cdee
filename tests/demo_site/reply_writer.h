// Writes one Reply on a connection and records it in the access log. The framing is chosen
// here: Content-Length for bodies of known size, chunked for streams on HTTP/1.1, and a
// close-delimited body for streams on HTTP/1.0.
//
// Logging order: a reply whose body is in memory is logged just before it is written, so a
// client that has read it will find its line; a streamed reply is logged when it ends, with
// the body bytes actually sent.
#pragma once

#include <cstdint>

#include "access_log.h"
#include "reply.h"
#include "timed_stream.h"

namespace meadow::demo_site {

struct ReplyMode {
  bool http11 = true;      // the request was HTTP/1.1 (chunked encoding allowed)
  bool keep_alive = true;  // the client allows another request on this connection
  bool head = false;       // HEAD: headers only
};

struct WriteContext {
  TimedStream& stream;
  AccessLog* access_log;          // may be null
  std::int64_t write_timeout_ms;  // for each write
  std::int64_t arrived_ms;        // when the request arrived, for the log
};

// True when the connection may carry another request.
bool write_reply(WriteContext& context, const Request& request, Reply reply, ReplyMode mode);

// "Sat, 22 Nov 2025 10:00:00 GMT" for the current time.
std::string http_date();

}  // namespace meadow::demo_site
