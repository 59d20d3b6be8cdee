#include "common/http_signature.h"

#include <cctype>

namespace meadow::httpsig {
namespace {

constexpr std::string_view kComponents = R"(("@method" "@path" "content-digest"))";

Error unauth(std::string code, std::string message) {
  return make_error(ErrorKind::unauthenticated, std::move(code), std::move(message));
}

bool valid_token(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

// Extracts a quoted string parameter `name="..."` from `params`.
bool quoted_param(std::string_view params, std::string_view name, std::string& out) {
  std::string key = ";" + std::string(name) + "=\"";
  auto pos = params.find(key);
  if (pos == std::string_view::npos) return false;
  auto start = pos + key.size();
  auto end = params.find('"', start);
  if (end == std::string_view::npos) return false;
  out = std::string(params.substr(start, end - start));
  return true;
}

}  // namespace

std::string content_digest(std::string_view body) {
  auto digest = crypto::sha256(body);
  return "sha-256=:" +
         crypto::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size())) +
         ":";
}

std::string signature_base(std::string_view method, std::string_view path,
                           std::string_view digest, std::string_view params_text) {
  std::string base;
  base.reserve(160 + path.size() + params_text.size());
  base += "\"@method\": ";
  base += method;
  base += "\n\"@path\": ";
  base += path;
  base += "\n\"content-digest\": ";
  base += digest;
  base += "\n\"@signature-params\": ";
  base += params_text;
  return base;
}

SignedHeaders sign_request(std::string_view method, std::string_view path, std::string_view body,
                           const crypto::KeyPair& key, std::string_view key_id,
                           std::int64_t created_s, std::string_view nonce) {
  SignedHeaders h;
  h.content_digest = content_digest(body);
  std::string params = std::string(kComponents) + ";created=" + std::to_string(created_s) +
                       ";nonce=\"" + std::string(nonce) + "\";keyid=\"" + std::string(key_id) +
                       "\";alg=\"ed25519\"";
  h.signature_input = "sig1=" + params;
  h.signature = "sig1=:" + crypto::base64_encode(key.sign(signature_base(method, path, h.content_digest, params))) + ":";
  return h;
}

Result<SignatureParams> parse(std::string_view input, std::string_view signature) {
  if (input.empty() || signature.empty()) {
    return unauth("unsigned-request",
                  "the request is not signed: send Signature-Input and Signature headers made with the node key");
  }
  if (input.substr(0, 5) != "sig1=" || signature.substr(0, 5) != "sig1=") {
    return unauth("bad-signature", "the signature label must be sig1");
  }
  SignatureParams p;
  p.params_text = std::string(input.substr(5));
  std::string_view params = p.params_text;
  if (params.substr(0, kComponents.size()) != kComponents) {
    return unauth("bad-signature",
                  "the signature must cover (\"@method\" \"@path\" \"content-digest\") in that order");
  }
  std::string_view rest = params.substr(kComponents.size());
  std::string alg;
  if (!quoted_param(rest, "alg", alg) || alg != "ed25519") {
    return unauth("bad-signature", "the signature algorithm must be alg=\"ed25519\"");
  }
  if (!quoted_param(rest, "keyid", p.key_id) || !valid_token(p.key_id, 1, 64)) {
    return unauth("bad-signature", "the signature needs a keyid naming the node");
  }
  if (!quoted_param(rest, "nonce", p.nonce) || !valid_token(p.nonce, 16, 128)) {
    return unauth("bad-signature", "the signature needs a nonce of 16 to 128 characters [A-Za-z0-9_-]");
  }
  auto cpos = rest.find(";created=");
  if (cpos == std::string_view::npos) return unauth("bad-signature", "the signature needs a created time");
  std::int64_t created = 0;
  std::size_t i = cpos + 9;
  std::size_t digits = 0;
  for (; i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i])) && digits < 12; ++i, ++digits) {
    created = created * 10 + (rest[i] - '0');
  }
  if (digits == 0 || (i < rest.size() && rest[i] != ';')) {
    return unauth("bad-signature", "the signature's created time must be an integer of Unix seconds");
  }
  p.created_s = created;
  std::string_view sig = signature.substr(5);
  if (sig.size() < 2 || sig.front() != ':' || sig.back() != ':') {
    return unauth("bad-signature", "the Signature header must be sig1=:<base64>:");
  }
  auto raw = crypto::base64_decode(sig.substr(1, sig.size() - 2));
  if (!raw.ok() || raw->size() != 64) {
    return unauth("bad-signature", "the Signature header must hold a base64 Ed25519 signature of 64 bytes");
  }
  p.signature = std::move(raw).value();
  return p;
}

Status verify(const SignatureParams& params, std::string_view method, std::string_view path,
              std::string_view body, std::string_view digest_header, const crypto::PublicKey& key) {
  std::string expected = content_digest(body);
  if (digest_header.empty()) {
    return unauth("bad-digest", "the request needs a Content-Digest header (sha-256) over its body");
  }
  if (!crypto::constant_time_equal(expected, digest_header)) {
    return unauth("bad-digest", "the Content-Digest header does not match the body");
  }
  if (!key.verify(signature_base(method, path, digest_header, params.params_text), params.signature)) {
    return unauth("bad-signature", "the request signature does not verify with the node's key");
  }
  return {};
}

}  // namespace meadow::httpsig
