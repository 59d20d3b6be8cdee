// Domain types the coordinator keeps: jobs, tasks, nodes, results, admin keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/protocol.h"

namespace meadow::coordinator {

enum class JobState : std::uint8_t { active = 0, paused = 1, cancelled = 2, done = 3 };
enum class CrawlScope : std::uint8_t { listed = 0, site = 1 };
enum class TaskState : std::uint8_t { queued = 0, leased = 1, done = 2, skipped = 3, dead = 4, cancelled = 5 };

const char* to_string(JobState s) noexcept;
const char* to_string(CrawlScope s) noexcept;
const char* to_string(TaskState s) noexcept;
bool parse_job_state(std::string_view s, JobState& out) noexcept;
bool parse_crawl_scope(std::string_view s, CrawlScope& out) noexcept;

// What an operator or buyer asks for. Every field has a default; validate_job_spec()
// (scheduler/job_spec.h) checks ranges and URLs before a job is stored.
struct JobSpec {
  std::string name;                       // 1..128 bytes
  std::vector<std::string> urls;          // seed URLs; normalised and deduplicated at creation
  CrawlScope scope = CrawlScope::listed;  // listed: only the URLs given; site: follow links
  int max_depth = 0;                      // site scope: link depth from a seed, 0..16
  std::int64_t max_pages = 0;             // site scope: tasks in the job at most (0 = seeds only)
  int priority = 1;                       // 1..1000: capacity is shared in proportion
  double site_rate = 1.0;                 // this job's requests per second per site, 0.01..100
  int max_attempts = 3;                   // 1..20: then the task is dead-lettered
  double replication_rate = 0.0;          // 0..1: share of tasks fetched twice (rewards issue)
  std::vector<protocol::FieldSelector> fields;  // job-defined fields, CSS or XPath
  bool captures = false;                  // nodes send raw responses; datasets get WARC files
  std::string owner;                      // customer id, "" for the operator
};

struct TaskCounts {
  std::int64_t queued = 0, leased = 0, done = 0, skipped = 0, dead = 0, cancelled = 0;
  std::int64_t total() const { return queued + leased + done + skipped + dead + cancelled; }
};

struct Job {
  std::int64_t id = 0;
  JobSpec spec;
  JobState state = JobState::active;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  TaskCounts counts;
};

// A URL ready to become a task: already normalised, with its registrable domain.
struct NewTask {
  std::string url;
  std::string site;
  int depth = 0;
};

struct Task {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::string url;
  std::string site;
  int depth = 0;
  TaskState state = TaskState::queued;
  int attempts = 0;
  std::int64_t token = 0;
  std::string node_id;
  std::int64_t deadline_ms = 0;
  std::int64_t available_at_ms = 0;
};

struct TaskFailure {
  std::int64_t task_id = 0;
  int attempt = 0;
  std::string node_id;
  std::string reason;
  std::int64_t at_ms = 0;
};

struct DeadTask {
  Task task;
  std::vector<TaskFailure> failures;
};

struct Node {
  std::string id;
  std::string public_key;  // raw 32 bytes
  std::string account;
  std::string name;
  std::string client;
  bool banned = false;
  std::string ban_reason;
  std::int64_t registered_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::int64_t accepted = 0;  // records accepted from this node
};

// One result as the API verified it, ready to store.
struct VerifiedResult {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  protocol::Outcome outcome = protocol::Outcome::ok;
  std::string reason;
  std::string record_id;
  std::string record_json;     // the record as uploaded (canonical form), ok only
  std::string record_sha256;   // hex
  std::string capture_body;    // the response body, when the record carries `raw` (captures)
  std::vector<NewTask> discovered;  // in-scope links to enqueue (site scope), already filtered
  protocol::Receipt receipt;   // signed receipt to keep and return (ok only)
};

struct QueueStats {
  TaskCounts total;
  struct ByJob {
    std::int64_t job_id;
    std::string name;
    JobState state;
    TaskCounts counts;
  };
  struct BySite {
    std::string site;
    TaskCounts counts;
  };
  std::vector<ByJob> jobs;
  std::vector<BySite> sites;  // the busiest sites by queued+leased, at most 100
};

struct StoredResult {
  std::int64_t task_id = 0;
  std::int64_t job_id = 0;
  std::string node_id;
  std::string record_json;
  std::string receipt_json;
  std::int64_t accepted_ms = 0;
};

}  // namespace meadow::coordinator
