#include "coordinator/http/message.h"

#include <unistd.h>

#include <algorithm>

#include "common/text.h"

namespace meadow::coordinator::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query components use the form encoding: '+' is a space. A '%' that does not start a
// valid escape is kept as it is, so a sloppy client still gets its bytes back.
std::string decode_query_component(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}



}  // namespace

const std::string* Request::header(std::string_view lower_name) const {
  for (const Header& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (decode_query_component(key) == name) return decode_query_component(value);
  }
  return std::nullopt;
}

FileBody::~FileBody() {
  if (fd >= 0) ::close(fd);
}

void Response::set_header(std::string name, std::string value) {
  name = text::ascii_lower(name);
  auto same = [&](const Header& h) { return h.name == name; };
  auto it = std::find_if(headers.begin(), headers.end(), same);
  if (it == headers.end()) {
    headers.push_back(Header{std::move(name), std::move(value)});
    return;
  }
  it->value = std::move(value);
  headers.erase(std::remove_if(std::next(it), headers.end(), same), headers.end());
}

}  // namespace meadow::coordinator::http
