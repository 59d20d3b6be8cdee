// Errors as RFC 9457 problem+json. Domain error kinds map to HTTP status here and nowhere else.
#pragma once

#include "common/protocol.h"
#include "common/result.h"
#include "coordinator/http/message.h"

namespace meadow::coordinator::api {

int http_status(ErrorKind kind) noexcept;

// {"type":"urn:meadow:problem:<code>","title":...,"status":...,"detail":...,"code":...}
// with content type application/problem+json and the protocol version header.
http::Response problem(const Error& error);

// The header every response carries: "meadow-protocol: 1.0".
inline constexpr const char* kProtocolHeader = protocol::kVersionHeader;
inline constexpr const char* kProtocolVersion = protocol::kVersion;

}  // namespace meadow::coordinator::api
