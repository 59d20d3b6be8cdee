// JSON form of jobs: the spec as operators and buyers send it, and the job as the API shows it.
#pragma once

#include <boost/json/object.hpp>

#include "common/result.h"
#include "coordinator/store/types.h"

namespace meadow::coordinator {

inline constexpr std::size_t kMaxJobUrls = 100'000;

boost::json::object to_json(const JobSpec& spec, bool with_urls);
boost::json::object to_json(const Job& job);  // spec without urls, state, times, counts
boost::json::object to_json(const TaskCounts& counts);

// Reads a spec; checks types and ranges of every field (URLs are checked by the scheduler's
// create_job, which normalises them). Errors name the field.
Result<JobSpec> job_spec_from_json(const boost::json::object& obj);

}  // namespace meadow::coordinator
