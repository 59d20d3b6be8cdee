// The coordinator's storage, behind one interface: SQLite (embedded, the default) now,
// PostgreSQL for several replicas later. The same store test suite runs against each.
//
// Every mutating call is one transaction: it happens completely or not at all, and a call
// that returns an error has changed nothing. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "coordinator/store/catalog.h"
#include "coordinator/store/types.h"

namespace meadow::coordinator {

// A queued task that may be leased now.
struct LeaseCandidate {
  std::int64_t task_id = 0;
  std::int64_t job_id = 0;
  std::string url;
  std::string site;
  int depth = 0;
  int attempts = 0;
};

// Inside a lease transaction, hands out candidates job by job. Each call continues after
// the candidates it returned before for that job (a cursor per job). In PostgreSQL the rows
// come from SELECT ... FOR UPDATE SKIP LOCKED, so replicas never hand out the same task.
class CandidateSource {
 public:
  virtual ~CandidateSource() = default;
  virtual std::vector<LeaseCandidate> next(std::int64_t job_id, int limit) = 0;
};

// The scheduler's choice of which candidates to lease (fairness between jobs and the
// politeness budget live there, not in the store). Returns at most `max` candidates.
using PickFn = std::function<std::vector<LeaseCandidate>(CandidateSource& source, int max)>;

struct LeaseParams {
  std::string node_id;
  int max_tasks = 1;
  std::int64_t now_ms = 0;
  std::int64_t lease_ms = 60'000;
};

struct LeaseGrant {
  LeaseCandidate task;
  std::int64_t token = 0;
  std::int64_t deadline_ms = 0;
  int attempt = 0;
};

struct ReapResult {
  std::int64_t requeued = 0;
  std::int64_t dead = 0;
};

// How a store call that checks leases failed for one item.
struct ItemError {
  std::int64_t task_id = 0;
  Error error;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- jobs
  // Stores the job and one queued task per entry of `tasks` (already normalised and
  // deduplicated). Returns the new job's id.
  virtual Result<std::int64_t> create_job(const JobSpec& spec, const std::vector<NewTask>& tasks,
                                          std::int64_t now_ms) = 0;
  virtual Result<Job> get_job(std::int64_t job_id) = 0;
  // All jobs, newest first, with task counts. `owner` filters when not empty.
  virtual Result<std::vector<Job>> list_jobs(const std::string& owner) = 0;
  // Jobs in state active, without counts: what the scheduler may lease from.
  virtual Result<std::vector<Job>> active_jobs() = 0;
  // active <-> paused, and -> cancelled (queued tasks become cancelled; leased ones finish
  // or expire into cancelled). A cancelled or done job cannot change state again.
  virtual Status set_job_state(std::int64_t job_id, JobState state, std::int64_t now_ms) = 0;
  // Changes whenever any job row changes, here or in another process sharing the database.
  virtual std::uint64_t jobs_version() = 0;
  virtual Result<std::vector<DeadTask>> dead_tasks(std::int64_t job_id, int limit) = 0;
  virtual Result<Task> get_task(std::int64_t task_id) = 0;

  // --- leasing
  // One transaction: asks `pick` for candidates and leases those it returns to the node,
  // each with a fresh fencing token (strictly greater than every token handed out before)
  // and deadline now + lease_ms. Increments each task's attempt count.
  virtual Result<std::vector<LeaseGrant>> lease(const LeaseParams& params, const PickFn& pick) = 0;
  // The same for several nodes in one transaction (in order; each pick sees what the ones
  // before it took). For waking many waiting nodes at once.
  virtual Result<std::vector<std::vector<LeaseGrant>>> lease_batch(const std::vector<LeaseParams>& params,
                                                                   const PickFn& pick) = 0;
  // Moves the deadline of leases the node holds with these tokens to new_deadline_ms.
  // Leases that are not the node's, stale or no longer leased are refused one by one.
  virtual Result<protocol::ExtendResponse> extend(const std::string& node_id,
                                                  const std::vector<protocol::LeaseRef>& leases,
                                                  std::int64_t new_deadline_ms, std::int64_t now_ms) = 0;
  // Gives leases back unstarted: each task the node holds with that token returns to the
  // queue at once, and its attempt is not counted. Others are refused one by one.
  virtual Result<protocol::ReleaseResponse> release(const std::string& node_id,
                                                    const std::vector<protocol::LeaseRef>& leases,
                                                    std::int64_t now_ms) = 0;
  // Leases past their deadline return to the queue, or to dead-letter (reason kept) when the
  // task has used max_attempts; tasks of a cancelled job become cancelled. At most `limit`.
  virtual Result<ReapResult> reap_expired(std::int64_t now_ms, int limit) = 0;
  // The earliest time a queued task of an active job becomes available, if any is waiting.
  virtual Result<std::optional<std::int64_t>> next_available_ms() = 0;

  // --- results
  // Accepts a batch of verified results from one node, all or nothing. Each must name a task
  // leased to this node with this token; a (task, token) already accepted from this node is a
  // duplicate and returns the stored receipt without counting twice. Failed outcomes requeue
  // the task after `retry_delay_ms` or dead-letter it. On any bad item nothing is written and
  // the error lists every bad item.
  virtual Result<std::vector<protocol::UploadItem>> complete(const std::string& node_id,
                                                             const std::vector<VerifiedResult>& results,
                                                             std::int64_t now_ms,
                                                             std::int64_t retry_delay_ms) = 0;
  // Accepted records of a job in acceptance order, after `after_task_id`.
  virtual Result<std::vector<StoredResult>> results(std::int64_t job_id, std::int64_t after_task_id,
                                                    int limit) = 0;

  // --- nodes
  // Registers a node; registering the same key again returns the existing node unchanged.
  virtual Result<Node> register_node(const Node& node) = 0;
  virtual Result<Node> get_node(const std::string& node_id) = 0;
  virtual Result<std::vector<Node>> list_nodes() = 0;
  virtual Status ban_node(const std::string& node_id, const std::string& reason, std::int64_t now_ms) = 0;

  // --- admin keys (only SHA-256 hashes are stored)
  virtual Status add_admin_key(const std::string& key_id, const std::string& key_hash,
                               const std::string& label, std::int64_t now_ms) = 0;
  // The key id whose hash matches, if the key exists and is not revoked.
  virtual Result<std::optional<std::string>> find_admin_key(const std::string& key_hash) = 0;

  // --- stats
  virtual Result<QueueStats> queue_stats() = 0;
  // Cheap liveness of the storage (for /readyz).
  virtual Status ping() = 0;

  // Customers, API keys and datasets, in the same database.
  virtual Catalog& catalog() = 0;
};

struct SqliteOptions {
  std::string path;                 // database file; ":memory:" for tests
  int busy_timeout_ms = 5000;       // wait this long for another process's write lock
  bool synchronous_full = false;    // FULL survives power loss; NORMAL (default) survives crashes
};

// Opens (creating if needed) and migrates a SQLite database. Fails with the path and reason
// when the file cannot be opened or its schema is newer than this program knows.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

}  // namespace meadow::coordinator
