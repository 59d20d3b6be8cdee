#include "coordinator/store/sqlite_catalog.h"

#include <cstdio>
#include <map>

#include "common/protocol.h"
#include "common/zstd.h"

namespace meadow::coordinator {
namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

class SqliteCatalog final : public Catalog {
 public:
  SqliteCatalog(Db& db, std::mutex& mu) : db_(db), mu_(mu) {}

  Status prepare() {
    struct P {
      Stmt* s;
      const char* sql;
    };
    P all[] = {
        {&s_add_customer_, "INSERT INTO customers(id, name, max_active_jobs, max_pages, created_ms) VALUES(?1,?2,?3,?4,?5)"},
        {&s_get_customer_, "SELECT id, name, max_active_jobs, max_pages, created_ms FROM customers WHERE id=?1 OR name=?1"},
        {&s_list_customers_, "SELECT id, name, max_active_jobs, max_pages, created_ms FROM customers ORDER BY created_ms, id"},
        {&s_add_key_, "INSERT INTO api_keys(id, customer_id, hash, scopes, rate_per_minute, label, created_ms) VALUES(?1,?2,?3,?4,?5,?6,?7)"},
        {&s_find_key_, "SELECT id, customer_id, scopes, rate_per_minute, label, created_ms, revoked_ms FROM api_keys WHERE hash=?1 AND revoked_ms=0"},
        {&s_list_keys_, "SELECT id, customer_id, scopes, rate_per_minute, label, created_ms, revoked_ms FROM api_keys WHERE customer_id=?1 ORDER BY created_ms, id"},
        {&s_revoke_key_, "UPDATE api_keys SET revoked_ms=?1 WHERE id=?2 AND revoked_ms=0"},
        {&s_key_exists_, "SELECT 1 FROM api_keys WHERE id=?1"},
        {&s_results_after_, "SELECT seq, job_id, record FROM results WHERE seq>?1 ORDER BY seq LIMIT ?2"},
        {&s_get_state_, "SELECT value FROM catalog_state WHERE name=?1"},
        {&s_set_state_, "UPDATE catalog_state SET value=?2 WHERE name=?1"},
        {&s_insert_entry_, "INSERT OR IGNORE INTO dataset_entries(job_id, seq, url, text_sha256, leaf, bytes) VALUES(?1,?2,?3,?4,?5,?6)"},
        {&s_touch_dataset_, "INSERT INTO datasets(job_id, records, duplicates, updated_ms, unsealed_records, unsealed_bytes) "
                            "VALUES(?1,?2,?3,?4,?2,?5) "
                            "ON CONFLICT(job_id) DO UPDATE SET records=records+?2, duplicates=duplicates+?3, updated_ms=?4, "
                            "unsealed_records=unsealed_records+?2, unsealed_bytes=unsealed_bytes+?5"},
        // The oldest waiting entry is the first by seq: results are numbered as they are accepted.
        {&s_unsealed_, "SELECT d.job_id, d.unsealed_records, d.unsealed_bytes, "
                       "(SELECT r.accepted_ms FROM dataset_entries e JOIN results r ON r.seq=e.seq "
                       "WHERE e.job_id=d.job_id AND e.shard<0 ORDER BY e.seq LIMIT 1) "
                       "FROM datasets d WHERE d.unsealed_records>0 ORDER BY d.job_id"},
        {&s_unsealed_records_, "SELECT e.seq, e.url, e.text_sha256, e.leaf, e.bytes, r.record FROM dataset_entries e "
                               "JOIN results r ON r.seq=e.seq WHERE e.job_id=?1 AND e.shard<0 AND e.seq>?3 ORDER BY e.seq LIMIT ?2"},
        {&s_insert_shard_, "INSERT INTO shards(job_id, number, records, bytes, raw_bytes, frames, sha256, first_seq, last_seq, "
                           "created_ms, captures_records, captures_bytes, captures_sha256) "
                           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"},
        {&s_capture_, "SELECT body FROM captures WHERE seq=?1"},
        {&s_mark_sealed_, "UPDATE dataset_entries SET shard=?2 WHERE job_id=?1 AND seq BETWEEN ?3 AND ?4 AND shard<0"},
        {&s_note_sealed_, "UPDATE datasets SET updated_ms=?2, unsealed_records=unsealed_records-?3, "
                          "unsealed_bytes=unsealed_bytes-(SELECT COALESCE(SUM(bytes),0) FROM dataset_entries "
                          "WHERE job_id=?1 AND seq BETWEEN ?4 AND ?5 AND shard<0) WHERE job_id=?1"},
        {&s_shards_, "SELECT job_id, number, records, bytes, raw_bytes, frames, sha256, first_seq, last_seq, created_ms, "
                     "captures_records, captures_bytes, captures_sha256 FROM shards WHERE job_id=?1 ORDER BY number"},
        {&s_leaves_, "SELECT leaf FROM dataset_entries WHERE job_id=?1 AND shard>=0 ORDER BY shard, seq"},
        {&s_datasets_, "SELECT d.job_id, j.owner, d.records, d.duplicates, j.created_ms, d.updated_ms, "
                       "(SELECT COUNT(*) FROM shards s WHERE s.job_id=d.job_id), "
                       "(SELECT COALESCE(SUM(records),0) FROM shards s WHERE s.job_id=d.job_id), "
                       "(SELECT COALESCE(SUM(bytes),0) FROM shards s WHERE s.job_id=d.job_id) "
                       "FROM datasets d JOIN jobs j ON j.id=d.job_id "
                       "WHERE (?1='' OR j.owner=?1) AND (?2=0 OR d.job_id=?2) AND d.updated_ms>=?3 AND d.updated_ms<=?4 "
                       "AND d.job_id<?5 ORDER BY d.job_id DESC LIMIT ?6"},
        {&s_records_since_, "SELECT e.seq, e.job_id, r.record FROM dataset_entries e JOIN results r ON r.seq=e.seq "
                            "WHERE e.job_id=?1 AND e.seq>?2 ORDER BY e.seq LIMIT ?3"},
    };
    for (auto& p : all) {
      MEADOW_ASSIGN(*p.s, db_.prepare(p.sql));
    }
    return {};
  }

  // --- customers and keys

  Status add_customer(const Customer& c) override {
    std::lock_guard lock(mu_);
    s_get_customer_.bind(1, c.name);
    MEADOW_ASSIGN(bool taken, s_get_customer_.step());
    s_get_customer_.reset();
    if (taken) {
      return make_error(ErrorKind::conflict, "customer-exists", "a customer named '" + c.name + "' already exists");
    }
    return s_add_customer_.bind(1, c.id).bind(2, c.name).bind(3, c.max_active_jobs).bind(4, c.max_pages)
        .bind(5, c.created_ms).exec();
  }

  Result<Customer> get_customer(const std::string& id_or_name) override {
    std::lock_guard lock(mu_);
    s_get_customer_.bind(1, id_or_name);
    MEADOW_ASSIGN(bool row, s_get_customer_.step());
    if (!row) return make_error(ErrorKind::not_found, "unknown-customer", "there is no customer '" + id_or_name + "'");
    Customer c = read_customer(s_get_customer_);
    s_get_customer_.reset();
    return c;
  }

  Result<std::vector<Customer>> list_customers() override {
    std::lock_guard lock(mu_);
    return sqlite::collect<Customer>(s_list_customers_, read_customer);
  }

  Status add_api_key(const ApiKey& k, const std::string& key_hash) override {
    std::lock_guard lock(mu_);
    return s_add_key_.bind(1, k.id).bind(2, k.customer_id).bind(3, key_hash).bind(4, static_cast<std::int64_t>(k.scopes))
        .bind(5, k.rate_per_minute).bind(6, k.label).bind(7, k.created_ms).exec();
  }

  Result<std::optional<ApiKey>> find_api_key(const std::string& key_hash) override {
    std::lock_guard lock(mu_);
    s_find_key_.bind(1, key_hash);
    MEADOW_ASSIGN(bool row, s_find_key_.step());
    if (!row) return std::optional<ApiKey>();
    ApiKey k = read_key(s_find_key_);
    s_find_key_.reset();
    return std::optional<ApiKey>(std::move(k));
  }

  Result<std::vector<ApiKey>> list_api_keys(const std::string& customer_id) override {
    std::lock_guard lock(mu_);
    return sqlite::collect<ApiKey>(s_list_keys_.bind(1, customer_id), read_key);
  }

  Status revoke_api_key(const std::string& key_id, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    s_key_exists_.bind(1, key_id);
    MEADOW_ASSIGN(bool row, s_key_exists_.step());
    s_key_exists_.reset();
    if (!row) return make_error(ErrorKind::not_found, "unknown-key", "there is no API key '" + key_id + "'");
    return s_revoke_key_.bind(1, now_ms).bind(2, key_id).exec();
  }

  // --- assembly

  Result<std::vector<SeqRecord>> results_after(std::int64_t after_seq, int limit) override {
    std::vector<SeqRecord> out;
    {
      std::lock_guard lock(mu_);
      MEADOW_ASSIGN(out, read_records(s_results_after_.bind(1, after_seq).bind(2, limit)));
    }
    for (auto& r : out) MEADOW_TRY(inflate(r.record_json));
    return out;
  }

  Result<std::int64_t> ingested_seq() override {
    std::lock_guard lock(mu_);
    s_get_state_.bind(1, std::string_view("ingested_seq"));
    MEADOW_ASSIGN(bool row, s_get_state_.step());
    std::int64_t v = row ? s_get_state_.i64(0) : 0;
    s_get_state_.reset();
    return v;
  }

  Result<std::int64_t> ingest(const std::vector<DatasetEntry>& entries, std::int64_t through_seq,
                              std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    struct Count {
      std::int64_t kept = 0, dropped = 0, kept_bytes = 0;
    };
    std::map<std::int64_t, Count> per_job;
    std::int64_t dropped = 0;
    for (const auto& e : entries) {
      MEADOW_TRY(s_insert_entry_.bind(1, e.job_id).bind(2, e.seq).bind(3, e.url).bind(4, e.text_sha256)
                     .bind(5, e.leaf).bind(6, e.bytes).exec());
      Count& c = per_job[e.job_id];
      if (db_.changes() == 1) {
        ++c.kept;
        c.kept_bytes += e.bytes;
      } else {
        ++c.dropped;
        ++dropped;
      }
    }
    for (const auto& [job, c] : per_job) {
      MEADOW_TRY(
          s_touch_dataset_.bind(1, job).bind(2, c.kept).bind(3, c.dropped).bind(4, now_ms).bind(5, c.kept_bytes).exec());
    }
    MEADOW_TRY(s_set_state_.bind(1, std::string_view("ingested_seq")).bind(2, through_seq).exec());
    MEADOW_TRY(tx.commit());
    return dropped;
  }

  Result<std::vector<Unsealed>> unsealed() override {
    std::lock_guard lock(mu_);
    return sqlite::collect<Unsealed>(s_unsealed_, [](Stmt& s) { return Unsealed{s.i64(0), s.i64(1), s.i64(2), s.i64(3)}; });
  }

  Result<std::vector<std::pair<DatasetEntry, std::string>>> unsealed_records(std::int64_t job_id,
                                                                             std::int64_t after_seq,
                                                                             int limit) override {
    std::vector<std::pair<DatasetEntry, std::string>> out;
    {
      std::lock_guard lock(mu_);
      s_unsealed_records_.bind(1, job_id).bind(2, limit).bind(3, after_seq);
      for (;;) {
        MEADOW_ASSIGN(bool row, s_unsealed_records_.step());
        if (!row) break;
        DatasetEntry e;
        e.job_id = job_id;
        e.seq = s_unsealed_records_.i64(0);
        e.url = s_unsealed_records_.text(1);
        e.text_sha256 = s_unsealed_records_.text(2);
        e.leaf = s_unsealed_records_.text(3);
        e.bytes = s_unsealed_records_.i64(4);
        out.emplace_back(std::move(e), s_unsealed_records_.blob(5));
      }
    }
    for (auto& [e, rec] : out) MEADOW_TRY(inflate(rec));
    return out;
  }

  Result<std::string> capture(std::int64_t seq) override {
    std::string body;
    {
      std::lock_guard lock(mu_);
      s_capture_.bind(1, seq);
      MEADOW_ASSIGN(bool row, s_capture_.step());
      if (row) body = s_capture_.blob(0);
      s_capture_.reset();
    }
    if (body.empty()) return body;
    auto inflated = zstd::decompress(body, protocol::kMaxCaptureBytes);
    if (!inflated.ok())
      return make_error(ErrorKind::internal, "bad-capture", "the stored capture of result " + std::to_string(seq) +
                                                                 " does not inflate: " + inflated.error().message);
    return inflated;
  }

  Status seal(const Shard& sh, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    MEADOW_TRY(s_insert_shard_.bind(1, sh.job_id).bind(2, sh.number).bind(3, sh.records).bind(4, sh.bytes)
                   .bind(5, sh.raw_bytes).bind(6, sh.frames).bind(7, sh.sha256).bind(8, sh.first_seq)
                   .bind(9, sh.last_seq).bind(10, sh.created_ms).bind(11, sh.captures_records)
                   .bind(12, sh.captures_bytes).bind(13, sh.captures_sha256).exec());
    MEADOW_TRY(s_note_sealed_.bind(1, sh.job_id).bind(2, now_ms).bind(3, sh.records).bind(4, sh.first_seq)
                   .bind(5, sh.last_seq).exec());
    MEADOW_TRY(s_mark_sealed_.bind(1, sh.job_id).bind(2, sh.number).bind(3, sh.first_seq).bind(4, sh.last_seq).exec());
    if (db_.changes() != sh.records) {
      return make_error(ErrorKind::internal, "seal-mismatch",
                        "shard " + sh.name() + " of job " + std::to_string(sh.job_id) + " names " +
                            std::to_string(sh.records) + " records but " + std::to_string(db_.changes()) +
                            " unsealed entries are in its range");
    }
    return tx.commit();
  }

  Result<std::vector<Shard>> shards(std::int64_t job_id) override {
    std::lock_guard lock(mu_);
    return sqlite::collect<Shard>(s_shards_.bind(1, job_id), [](Stmt& s) {
      Shard sh;
      sh.job_id = s.i64(0);
      sh.number = s.i64(1);
      sh.records = s.i64(2);
      sh.bytes = s.i64(3);
      sh.raw_bytes = s.i64(4);
      sh.frames = s.i64(5);
      sh.sha256 = s.text(6);
      sh.first_seq = s.i64(7);
      sh.last_seq = s.i64(8);
      sh.created_ms = s.i64(9);
      sh.captures_records = s.i64(10);
      sh.captures_bytes = s.i64(11);
      sh.captures_sha256 = s.text(12);
      return sh;
    });
  }

  Result<std::vector<std::string>> sealed_leaves(std::int64_t job_id) override {
    std::lock_guard lock(mu_);
    return sqlite::collect<std::string>(s_leaves_.bind(1, job_id), [](Stmt& s) { return s.text(0); });
  }

  // --- reading

  Result<std::vector<DatasetSummary>> datasets(const DatasetQuery& q) override {
    std::lock_guard lock(mu_);
    s_datasets_.bind(1, q.owner).bind(2, q.job_id.value_or(0)).bind(3, q.since_ms).bind(4, q.until_ms)
        .bind(5, q.before_job).bind(6, q.limit);
    return sqlite::collect<DatasetSummary>(s_datasets_, [](Stmt& s) {
      DatasetSummary d;
      d.job_id = s.i64(0);
      d.owner = s.text(1);
      d.records = s.i64(2);
      d.duplicates = s.i64(3);
      d.created_ms = s.i64(4);
      d.updated_ms = s.i64(5);
      d.shards = s.i64(6);
      d.sealed_records = s.i64(7);
      d.bytes = s.i64(8);
      return d;
    });
  }

  Result<DatasetSummary> dataset(std::int64_t job_id) override {
    DatasetQuery q;
    q.job_id = job_id;
    q.since_ms = INT64_MIN;
    q.limit = 1;
    MEADOW_ASSIGN(auto list, datasets(q));
    if (list.empty()) {
      return make_error(ErrorKind::not_found, "unknown-dataset", "there is no dataset " + std::to_string(job_id));
    }
    return list.front();
  }

  Result<std::vector<SeqRecord>> records_since(std::int64_t job_id, std::int64_t after_seq, int limit) override {
    std::vector<SeqRecord> out;
    {
      std::lock_guard lock(mu_);
      MEADOW_ASSIGN(out, read_records(s_records_since_.bind(1, job_id).bind(2, after_seq).bind(3, limit)));
    }
    for (auto& r : out) MEADOW_TRY(inflate(r.record_json));
    return out;
  }

 private:
  static Customer read_customer(Stmt& s) {
    Customer c;
    c.id = s.text(0);
    c.name = s.text(1);
    c.max_active_jobs = s.i64(2);
    c.max_pages = s.i64(3);
    c.created_ms = s.i64(4);
    return c;
  }

  static ApiKey read_key(Stmt& s) {
    ApiKey k;
    k.id = s.text(0);
    k.customer_id = s.text(1);
    k.scopes = static_cast<unsigned>(s.i64(2));
    k.rate_per_minute = s.i64(3);
    k.label = s.text(4);
    k.created_ms = s.i64(5);
    k.revoked_ms = s.i64(6);
    return k;
  }

  // Records are stored compressed (see SqliteStore::complete); inflated outside the lock.
  static Status inflate(std::string& record) {
    MEADOW_ASSIGN(record, zstd::decompress(record, kMaxStoredRecord));
    return {};
  }

  // Rows of (seq, job_id, stored record).
  static Result<std::vector<SeqRecord>> read_records(Stmt& s) {
    return sqlite::collect<SeqRecord>(s, [](Stmt& st) { return SeqRecord{st.i64(0), st.i64(1), st.blob(2)}; });
  }

  Db& db_;
  std::mutex& mu_;
  Stmt s_add_customer_, s_get_customer_, s_list_customers_, s_add_key_, s_find_key_, s_list_keys_, s_revoke_key_,
      s_key_exists_, s_results_after_, s_get_state_, s_set_state_, s_insert_entry_, s_touch_dataset_, s_unsealed_,
      s_unsealed_records_, s_capture_, s_insert_shard_, s_mark_sealed_, s_note_sealed_, s_shards_, s_leaves_, s_datasets_,
      s_records_since_;
};

}  // namespace

std::string scopes_text(unsigned scopes) {
  std::string out;
  if (scopes & kScopeRead) out = "read";
  if (scopes & kScopeSubmit) out += out.empty() ? "submit" : ",submit";
  return out;
}

bool parse_scopes(std::string_view text, unsigned& out) {
  unsigned s = 0;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    if (part == "read") {
      s |= kScopeRead;
    } else if (part == "submit") {
      s |= kScopeSubmit;
    } else {
      return false;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (s == 0) return false;
  out = s;
  return true;
}

namespace {
// "<prefix>-NNNNN.<extension>", the shard number in at least five digits.
std::string numbered_file(const char* prefix, std::int64_t number, const char* extension) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%05lld.%s", prefix, static_cast<long long>(number), extension);
  return buf;
}
}  // namespace

std::string Shard::name() const { return numbered_file("records", number, "jsonl.zst"); }

std::string Shard::captures_name() const { return numbered_file("captures", number, "warc.zst"); }

Result<std::unique_ptr<Catalog>> make_sqlite_catalog(sqlite::Db& db, std::mutex& mu) {
  auto c = std::make_unique<SqliteCatalog>(db, mu);
  MEADOW_TRY(c->prepare());
  return std::unique_ptr<Catalog>(std::move(c));
}

}  // namespace meadow::coordinator
