#include "coordinator/api/customers.h"

#include "common/crypto.h"

namespace meadow::coordinator::api {
namespace json = boost::json;

namespace {

Error bad(std::string message) { return make_error(ErrorKind::invalid, "bad-customer", std::move(message)); }

}  // namespace

Status validate(const NewCustomer& c) {
  if (c.name.empty() || c.name.size() > 128) return bad("the customer name must be 1 to 128 bytes");
  for (unsigned char ch : c.name) {
    if (ch < 0x20 || ch == 0x7f) return bad("the customer name must not contain control characters");
  }
  if (c.max_active_jobs < 1 || c.max_active_jobs > 1'000'000'000) return bad("max_active_jobs must be 1 to 10^9");
  if (c.max_pages < 1 || c.max_pages > 1'000'000'000) return bad("max_pages must be 1 to 10^9");
  return {};
}

Status validate(const NewKey& k) {
  if (k.scopes == 0 || (k.scopes & ~unsigned(kScopeRead | kScopeSubmit))) return bad("scopes must be read, submit or both");
  if (k.rate_per_minute < 1 || k.rate_per_minute > 1'000'000) return bad("rate_per_minute must be 1 to 10^6");
  if (k.label.size() > 256) return bad("the key label must be at most 256 bytes");
  return {};
}

std::string hash_api_key(std::string_view secret) { return crypto::sha256_hex(secret); }

Result<Customer> create_customer(Catalog& catalog, const NewCustomer& c, std::int64_t now_ms) {
  MEADOW_TRY(validate(c));
  Customer out;
  out.id = "cus_" + crypto::to_hex(crypto::random_bytes(8));
  out.name = c.name;
  out.max_active_jobs = c.max_active_jobs;
  out.max_pages = c.max_pages;
  out.created_ms = now_ms;
  MEADOW_TRY(catalog.add_customer(out));
  return out;
}

Result<IssuedKey> issue_key(Catalog& catalog, const std::string& customer_id, const NewKey& k, std::int64_t now_ms) {
  MEADOW_TRY(validate(k));
  MEADOW_ASSIGN(Customer c, catalog.get_customer(customer_id));
  IssuedKey out;
  out.key.id = "key_" + crypto::to_hex(crypto::random_bytes(8));
  out.key.customer_id = c.id;
  out.key.scopes = k.scopes;
  out.key.rate_per_minute = k.rate_per_minute;
  out.key.label = k.label;
  out.key.created_ms = now_ms;
  out.secret = "mdw_" + crypto::random_token(30);
  MEADOW_TRY(catalog.add_api_key(out.key, hash_api_key(out.secret)));
  return out;
}

json::object to_json(const Customer& c) {
  return json::object{{"id", c.id},
                      {"name", c.name},
                      {"max_active_jobs", c.max_active_jobs},
                      {"max_pages", c.max_pages},
                      {"created_ms", c.created_ms}};
}

json::object to_json(const ApiKey& k) {
  return json::object{{"id", k.id},
                      {"customer_id", k.customer_id},
                      {"scopes", scopes_text(k.scopes)},
                      {"rate_per_minute", k.rate_per_minute},
                      {"label", k.label},
                      {"created_ms", k.created_ms},
                      {"revoked", k.revoked_ms != 0},
                      {"revoked_ms", k.revoked_ms}};
}

}  // namespace meadow::coordinator::api
