// Request signing in the shape of HTTP Message Signatures (RFC 9421) with Ed25519, and
// Content-Digest (RFC 9530). A node signs every request; the coordinator verifies the key,
// the digest, the freshness of `created`, and refuses a nonce it has seen.
//
//   content-digest: sha-256=:<base64>:
//   signature-input: sig1=("@method" "@path" "content-digest");created=1700000000;nonce="...";keyid="n...";alg="ed25519"
//   signature: sig1=:<base64 signature of the signature base>:
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/crypto.h"
#include "common/result.h"

namespace meadow::httpsig {

struct SignedHeaders {
  std::string content_digest;
  std::string signature_input;
  std::string signature;
};

// "sha-256=:<base64 of SHA-256(body)>:"
std::string content_digest(std::string_view body);

// Signs `method` and `path` (without the query) and the body's digest.
SignedHeaders sign_request(std::string_view method, std::string_view path, std::string_view body,
                           const crypto::KeyPair& key, std::string_view key_id,
                           std::int64_t created_s, std::string_view nonce);

struct SignatureParams {
  std::string key_id;
  std::string nonce;
  std::int64_t created_s = 0;
  std::string params_text;  // the inner list and its parameters, as signed
  std::string signature;    // raw 64 bytes
};

// Parses the headers; refuses missing pieces, other labels, other covered components,
// algorithms other than ed25519, nonces outside 16..128 characters of [A-Za-z0-9_-].
Result<SignatureParams> parse(std::string_view signature_input, std::string_view signature);

// The RFC 9421 signature base for our fixed component list.
std::string signature_base(std::string_view method, std::string_view path,
                           std::string_view content_digest, std::string_view params_text);

// Checks digest and signature (not freshness or replay: the caller keeps the nonce cache).
// Errors are ErrorKind::unauthenticated with codes "bad-digest" and "bad-signature".
Status verify(const SignatureParams& params, std::string_view method, std::string_view path,
              std::string_view body, std::string_view content_digest_header,
              const crypto::PublicKey& key);

}  // namespace meadow::httpsig
