#include "coordinator/api/problem.h"

#include "common/json.h"

namespace meadow::coordinator::api {

int http_status(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid: return 400;
    case ErrorKind::unauthenticated: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::not_found: return 404;
    case ErrorKind::conflict: return 409;
    case ErrorKind::too_large: return 413;
    case ErrorKind::rate_limited: return 429;
    case ErrorKind::unavailable: return 503;
    case ErrorKind::io:
    case ErrorKind::internal: return 500;
  }
  return 500;
}

namespace {
const char* title_for(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}
}  // namespace

http::Response problem(const Error& error) {
  http::Response r;
  r.status = http_status(error.kind);
  if (error.code == "method-not-allowed") r.status = 405;
  if (error.code == "unsupported-media-type") r.status = 415;
  if (error.code == "header-too-large") r.status = 431;
  if (error.code == "range-not-satisfiable") r.status = 416;
  r.content_type = "application/problem+json";
  std::string code = error.code.empty() ? "error" : error.code;
  r.body = "{\"type\":" + json_quote("urn:meadow:problem:" + code) +
           ",\"title\":" + json_quote(title_for(r.status)) +
           ",\"status\":" + std::to_string(r.status) +
           ",\"detail\":" + json_quote(error.message) +
           ",\"code\":" + json_quote(code) + "}";
  r.set_header(kProtocolHeader, kProtocolVersion);
  if (error.kind == ErrorKind::rate_limited || error.kind == ErrorKind::unavailable) {
    r.set_header("retry-after", "1");
  }
  r.route = "error";
  return r;
}

}  // namespace meadow::coordinator::api
