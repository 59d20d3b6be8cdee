#include "client/core/record.h"

#include <optional>

#include "common/json.h"
#include "common/log.h"
#include "common/sha2.h"
#include "common/zstd.h"

namespace meadow::client {

namespace json = boost::json;

void add_page_fields(json::object& r, const extract::Page& page, std::string_view body, const PageHashes* hashes) {
  if (!page.lang.empty()) r["lang"] = page.lang;
  r["title"] = page.title;
  if (!page.description.empty()) r["description"] = page.description;
  if (!page.canonical_url.empty()) r["canonical_url"] = page.canonical_url;
  r["text"] = page.text;
  json::array links;
  for (const auto& l : page.links) {
    links.push_back(json::object{{"url", l.url}, {"text", l.text}, {"internal", l.internal}});
  }
  r["links"] = std::move(links);
  const extract::Metadata& meta = page.meta;
  if (!meta.author.empty()) r["author"] = meta.author;
  if (!meta.published.empty()) r["published"] = meta.published;
  if (!meta.modified.empty()) r["modified"] = meta.modified;
  if (!meta.site_name.empty()) r["site_name"] = meta.site_name;
  if (!meta.json_ld.empty()) r["jsonld"] = json::array(meta.json_ld.begin(), meta.json_ld.end());
  if (!meta.opengraph.empty()) r["opengraph"] = extract::opengraph_json(meta.opengraph);
  if (!page.fields.empty()) r["fields"] = page.fields;
  r["body_sha256"] = crypto::to_hex(hashes != nullptr ? hashes->body : crypto::sha256(body));
  r["text_sha256"] = crypto::to_hex(hashes != nullptr ? hashes->text : crypto::sha256(page.text));
  r["simhash"] = extract::simhash_hex(extract::simhash(page.text));
  r["extractor"] = json::object{{"name", extract::kExtractorName}, {"version", extract::kExtractorVersion}};
}

json::object build_record(const protocol::TaskLease& task, const FetchResult& fetch, const extract::Page& page,
                          const std::string& node_id, const PageHashes* hashes) {
  json::object r;
  const std::string seed = node_id + "/" + std::to_string(task.task_id) + "/" + std::to_string(task.token);
  r["record_id"] = "r" + crypto::sha256_hex(seed).substr(0, 32);
  r["task_id"] = task.task_id;
  r["job_id"] = task.job_id;
  r["node_id"] = node_id;
  r["url"] = task.url;
  r["final_url"] = fetch.final_url;
  if (!fetch.redirects.empty()) {
    json::array chain;
    for (const auto& hop : fetch.redirects) chain.push_back(json::object{{"url", hop.url}, {"status", hop.status}});
    r["redirect_chain"] = std::move(chain);
  }
  r["fetched_at"] = format_rfc3339_ms(fetch.finished_ms);
  r["http_status"] = fetch.http_status;
  if (!fetch.content_type.empty()) r["content_type"] = fetch.content_type;
  if (!page.charset.empty()) r["charset"] = page.charset;
  r["content_length"] = static_cast<std::int64_t>(fetch.body.size());
  r["truncated"] = fetch.truncated;
  add_page_fields(r, page, fetch.body, hashes);
  if (task.captures && fetch.capture) {
    const FetchResult::Capture& cap = *fetch.capture;
    json::array headers;
    for (const auto& [name, value] : cap.headers) headers.push_back(json::object{{"name", name}, {"value", value}});
    json::object raw{{"status_line", cap.status_line}, {"headers", std::move(headers)}, {"request", cap.request_head}};
    if (!cap.ip_address.empty()) raw["ip_address"] = cap.ip_address;
    r["raw"] = std::move(raw);
  }
  return r;
}

FramedResult frame_result(const protocol::TaskLease& task, const FetchResult& fetch, const crypto::KeyPair& key,
                          const std::string& node_id) {
  const FrameJob job{&task, &fetch};
  return std::move(frame_results({&job, 1}, key, node_id).front());
}

std::vector<FramedResult> frame_results(std::span<const FrameJob> jobs, const crypto::KeyPair& key,
                                        const std::string& node_id) {
  std::vector<FramedResult> out(jobs.size());
  // Pages first, so that their bodies and texts are hashed together.
  std::vector<std::optional<extract::Page>> pages(jobs.size());
  std::vector<std::string_view> to_hash;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const protocol::TaskLease& task = *jobs[i].task;
    const FetchResult& fetch = *jobs[i].fetch;
    protocol::ResultLine line;
    line.task_id = task.task_id;
    line.token = task.token;
    line.outcome = fetch.outcome;
    line.reason = fetch.reason_code.empty() ? fetch.reason : fetch.reason_code + ": " + fetch.reason;
    if (fetch.outcome == protocol::Outcome::ok) {
      extract::Input in{fetch.body, fetch.final_url, fetch.content_type_header, fetch.content_language, &task.fields};
      auto page = extract::extract(in);
      if (page.ok()) {
        out[i].field_problems = std::move(page->field_problems);
        pages[i] = std::move(page).value();
        to_hash.push_back(fetch.body);
        to_hash.push_back(pages[i]->text);
        continue;
      }
      out[i].error = page.error().message;
      line.outcome = protocol::Outcome::failed;
      line.reason = "extract: " + page.error().message;
    }
    if (line.reason.size() > 1000) {
      std::size_t cut = 1000;
      while (cut > 0 && (static_cast<unsigned char>(line.reason[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
      line.reason.resize(cut);
    }
    out[i].frame = zstd::compress(protocol::to_json(line) + "\n");
  }
  std::vector<crypto::Sha256> digests(to_hash.size());
  crypto::sha256_many(to_hash, digests.data());

  std::vector<json::object> records;
  records.reserve(jobs.size());  // the lines below point into it
  std::vector<protocol::OkLineInput> ok;
  std::vector<std::size_t> ok_at;
  for (std::size_t i = 0, h = 0; i < jobs.size(); ++i) {
    if (!pages[i]) continue;
    const PageHashes hashes{digests[h], digests[h + 1]};
    h += 2;
    const protocol::TaskLease& task = *jobs[i].task;
    const FetchResult& fetch = *jobs[i].fetch;
    const json::object& record = records.emplace_back(build_record(task, fetch, *pages[i], node_id, &hashes));
    out[i].record_id = std::string(record.at("record_id").get_string());
    const std::string_view capture = record.contains("raw") ? std::string_view(fetch.body) : std::string_view();
    ok.push_back({task.task_id, task.token, &record, capture});
    ok_at.push_back(i);
  }
  // zstd's default level: on ~20 KB record lines every level from -10 to 3 takes 46 to 52 us
  // here, and 3 makes the smallest frame. The coordinator decompresses each upload and
  // compresses what it keeps its own way, so this level only sizes the upload.
  std::vector<std::string> lines = protocol::signed_ok_lines_json(ok, key);
  for (std::size_t k = 0; k < lines.size(); ++k) {
    lines[k] += '\n';
    out[ok_at[k]].frame = zstd::compress(lines[k]);
  }
  return out;
}

Contribution contribution_of(const protocol::TaskLease& task, const FetchResult& fetch, const FramedResult& framed) {
  Contribution c;
  c.task_id = task.task_id;
  c.job_id = task.job_id;
  c.token = task.token;
  c.url = task.url;
  c.final_url = fetch.final_url;
  c.started_ms = fetch.started_ms;
  c.finished_ms = fetch.finished_ms;
  c.http_status = fetch.http_status;
  c.bytes = static_cast<std::int64_t>(fetch.body.size());
  c.wire_bytes = fetch.wire_bytes;
  c.outcome = protocol::to_string(framed.error.empty() ? fetch.outcome : protocol::Outcome::failed);
  c.reason = framed.error.empty() ? fetch.reason_code : "extract";
  c.record_id = framed.record_id;
  return c;
}

}  // namespace meadow::client
