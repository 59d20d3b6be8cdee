#include "support/nginx.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/http_client.h"
#include "support/test_env.h"

namespace meadow::testing {
namespace {

using namespace std::chrono_literals;

std::string tail(const std::string& s, std::size_t n = 2000) { return s.size() > n ? s.substr(s.size() - n) : s; }

std::string config(const std::string& dir, const std::string& root, std::uint16_t port) {
  const std::string tmp = dir + "/tmp";
  std::ostringstream c;
  c << "daemon off;\n"
       "master_process off;\n"
       "worker_processes 1;\n"
    << "pid " << dir << "/nginx.pid;\n"
    << "error_log " << dir << "/error.log warn;\n"
    << "events { worker_connections 1024; }\n"
       "http {\n"
       "  access_log off;\n"
       "  sendfile on;\n"
       "  tcp_nopush on;\n"
       "  keepalive_requests 100000;\n"
       "  keepalive_timeout 65;\n"
       "  types { text/html html; text/plain txt; application/json json; application/zstd zst; }\n"
       "  default_type application/octet-stream;\n"
    << "  client_body_temp_path " << tmp << "/body;\n"
    << "  proxy_temp_path " << tmp << "/proxy;\n"
    << "  fastcgi_temp_path " << tmp << "/fastcgi;\n"
    << "  uwsgi_temp_path " << tmp << "/uwsgi;\n"
    << "  scgi_temp_path " << tmp << "/scgi;\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port << ";\n"
    << "    server_name localhost;\n"
    << "    root " << root << ";\n"
    << "  }\n"
       "}\n";
  return c.str();
}

}  // namespace

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

bool pin_calling_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;  // 0: the calling thread
}

bool pin_process(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  std::error_code ec;
  bool all = true;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(task.path().filename().c_str()));
    if (tid <= 0 || sched_setaffinity(tid, sizeof set, &set) != 0) all = false;
  }
  return all && !ec;
}

std::string find_program(const std::string& name, const std::vector<std::string>& also) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    for (std::string d; std::getline(in, d, ':');)
      if (!d.empty()) dirs.push_back(d);
  }
  dirs.insert(dirs.end(), also.begin(), also.end());
  for (const auto& d : dirs) {
    const std::string p = d + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

bool can_pin_children() { return !find_program("taskset", {"/usr/bin", "/bin"}).empty(); }

std::vector<std::string> pinned(std::vector<std::string> argv, int cpu) {
  const std::string taskset = find_program("taskset", {"/usr/bin", "/bin"});
  if (cpu < 0 || taskset.empty()) return argv;
  argv.insert(argv.begin(), {taskset, "-c", std::to_string(cpu)});
  return argv;
}

std::string Nginx::find() { return find_program("nginx", {"/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"}); }

Result<std::unique_ptr<Nginx>> Nginx::start(const std::string& dir, const std::string& root, int cpu,
                                            const std::string& ready_path) {
  const std::string binary = find();
  if (binary.empty())
    return make_error(ErrorKind::unavailable, "no-nginx", "nginx is not installed (apt install nginx)");
  std::error_code ec;
  std::filesystem::create_directories(dir + "/tmp", ec);
  if (ec) return make_error(ErrorKind::io, "nginx-dir", "cannot create '" + dir + "/tmp': " + ec.message());
  const std::uint16_t port = free_port();
  const std::string conf = dir + "/nginx.conf";
  std::ofstream(conf) << config(dir, root, port);
  auto process = std::make_unique<ChildProcess>(pinned({binary, "-p", dir, "-e", dir + "/error.log", "-c", conf}, cpu),
                                                dir + "/nginx.out");
  if (!wait_ready(port, 10s, ready_path)) {
    process->signal(SIGKILL);
    process->wait(5s);
    return make_error(ErrorKind::unavailable, "nginx-not-ready",
                      "nginx did not answer GET " + ready_path + " within 10 s; it said:\n" +
                          tail(file_contents(dir + "/nginx.out")) + tail(file_contents(dir + "/error.log")));
  }
  return std::unique_ptr<Nginx>(new Nginx(std::move(process), port));
}

Nginx::~Nginx() {
  process_->signal(SIGTERM);
  if (process_->wait(10s) == -1) process_->signal(SIGKILL);
}

}  // namespace meadow::testing
