// Customers and API keys as operators make them: one place for the CLI and the admin API.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "coordinator/store/catalog.h"

namespace meadow::coordinator::api {

struct NewCustomer {
  std::string name;
  std::int64_t max_active_jobs = 10;
  std::int64_t max_pages = 100'000;
};

struct NewKey {
  unsigned scopes = kScopeRead | kScopeSubmit;
  std::int64_t rate_per_minute = 600;
  std::string label;
};

struct IssuedKey {
  ApiKey key;
  std::string secret;  // shown once; only its SHA-256 is stored
};

// Checks ranges (name 1..128 printable bytes, quotas 1..10^9, rate 1..10^6 per minute).
Status validate(const NewCustomer& c);
Status validate(const NewKey& k);

Result<Customer> create_customer(Catalog& catalog, const NewCustomer& c, std::int64_t now_ms);
Result<IssuedKey> issue_key(Catalog& catalog, const std::string& customer_id, const NewKey& k, std::int64_t now_ms);

// The stored form of a key: hex SHA-256 of the whole secret.
std::string hash_api_key(std::string_view secret);

boost::json::object to_json(const Customer& c);
boost::json::object to_json(const ApiKey& k);

}  // namespace meadow::coordinator::api
