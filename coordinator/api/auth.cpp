#include "common/http_signature.h"
#include "common/protocol.h"
#include "coordinator/api/context.h"

namespace meadow::coordinator::api {

bool NonceCache::remember(const std::string& node_id, const std::string& nonce, std::int64_t now_ms,
                          std::int64_t lifetime_ms, bool& full) {
  std::lock_guard lock(mu_);
  full = false;
  if (now_ms >= next_sweep_ms_) {
    std::erase_if(seen_, [now_ms](const auto& kv) { return kv.second <= now_ms; });
    next_sweep_ms_ = now_ms + 10'000;
  }
  std::string key = node_id + ' ' + nonce;
  auto it = seen_.find(key);
  if (it != seen_.end() && it->second > now_ms) return false;
  if (seen_.size() >= capacity_) {
    full = true;
    return false;
  }
  seen_[key] = now_ms + lifetime_ms;
  return true;
}

std::string hash_admin_key(std::string_view key) { return crypto::sha256_hex(key); }

std::optional<std::string_view> bearer_credential(const http::Request& r) {
  const std::string* auth = r.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth || auth->size() <= kBearer.size() || std::string_view(*auth).substr(0, kBearer.size()) != kBearer) {
    return std::nullopt;
  }
  return std::string_view(*auth).substr(kBearer.size());
}

Result<Node> authenticate_node(const http::Request& r, Context& ctx, const crypto::PublicKey* registering) {
  const std::string* input = r.header("signature-input");
  const std::string* sig = r.header("signature");
  MEADOW_ASSIGN(httpsig::SignatureParams params,
                httpsig::parse(input ? *input : std::string_view(), sig ? *sig : std::string_view()));
  std::int64_t now_ms = ctx.clock.now_ms();
  std::int64_t skew = params.created_s * 1000 - now_ms;
  std::int64_t window_ms = ctx.options.signature_window_s * 1000;
  if (skew > window_ms || skew < -window_ms) {
    return make_error(ErrorKind::unauthenticated, "stale-signature",
                      "the signature was created " + std::to_string(-skew / 1000) +
                          " s from the coordinator's clock; allowed is " +
                          std::to_string(ctx.options.signature_window_s) + " s; check the node's clock");
  }
  Node node;
  crypto::PublicKey key;
  if (registering) {
    if (params.key_id != registering->id()) {
      return make_error(ErrorKind::unauthenticated, "bad-signature",
                        "a registration must be signed by the key it registers (keyid " + registering->id() + ")");
    }
    key = *registering;
  } else {
    auto found = ctx.store.get_node(params.key_id);
    if (!found.ok()) {
      if (found.error().kind == ErrorKind::not_found) {
        return make_error(ErrorKind::unauthenticated, "unknown-node",
                          "node " + params.key_id + " is not registered; register it first");
      }
      return std::move(found).error();
    }
    node = std::move(found).value();
    MEADOW_ASSIGN(key, crypto::PublicKey::from_raw(node.public_key));
  }
  const std::string* digest = r.header("content-digest");
  MEADOW_TRY(httpsig::verify(params, r.method, r.path, r.body, digest ? *digest : std::string_view(), key));
  if (node.banned) {
    return make_error(ErrorKind::forbidden, "node-banned",
                      "node " + node.id + " is banned" + (node.ban_reason.empty() ? "" : ": " + node.ban_reason));
  }
  bool full = false;
  if (!ctx.nonces.remember(params.key_id, params.nonce, now_ms, 2 * window_ms, full)) {
    if (full) return make_error(ErrorKind::unavailable, "busy", "too many signed requests in flight; retry shortly");
    return make_error(ErrorKind::unauthenticated, "replayed-request",
                      "this request's nonce was already used; sign every request with a fresh nonce");
  }
  return node;
}

Status authenticate_admin(const http::Request& r, Context& ctx) {
  std::optional<std::string_view> key = bearer_credential(r);
  if (!key) {
    return make_error(ErrorKind::unauthenticated, "no-admin-key",
                      "send the admin key as 'Authorization: Bearer <key>'; make one with "
                      "'meadow-coordinator admin-key create'");
  }
  MEADOW_ASSIGN(auto id, ctx.store.find_admin_key(hash_admin_key(*key)));
  if (!id) return make_error(ErrorKind::unauthenticated, "bad-admin-key", "the admin key is not known or was revoked");
  return {};
}

}  // namespace meadow::coordinator::api
