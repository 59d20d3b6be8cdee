// A connected TCP socket for one connection thread, with a deadline on every read and write
// and a shared stop signal. It meets Beast's SyncReadStream and SyncWriteStream, so
// http::read and net::write work on it, yet no call blocks past the deadline or past stop.
//
// The socket is switched to non-blocking mode; waiting is done with poll(2) on the socket
// and on `stop_fd`, an eventfd that becomes readable (and stays so) when the server stops.
#pragma once

#include <poll.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace meadow::demo_site {

class TimedStream {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using Clock = std::chrono::steady_clock;

  TimedStream(boost::asio::ip::tcp::socket& socket, int stop_fd) : socket_(socket), stop_fd_(stop_fd) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  }

  executor_type get_executor() { return socket_.get_executor(); }

  // Every later read and write must finish within `ms` from now.
  void set_timeout_ms(std::int64_t ms) { deadline_ = Clock::now() + std::chrono::milliseconds(ms); }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    for (;;) {
      std::size_t n = socket_.read_some(buffers, ec);
      if (ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) return n;
      if (!wait(POLLIN, ec)) return 0;
    }
  }

  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    for (;;) {
      std::size_t n = socket_.write_some(buffers, ec);
      if (ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) return n;
      if (!wait(POLLOUT, ec)) return 0;
    }
  }

  // The throwing forms the stream concepts ask for; the server itself uses the forms above.
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers) {
    boost::system::error_code ec;
    std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Sleeps up to `ms` while watching the connection. True when the time passed with the
  // client still there; false as soon as the client closes or resets, or the server stops.
  // Bytes the client sends meanwhile (a pipelined request) stay unread.
  bool linger(std::int64_t ms) {
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return true;
      pollfd fds[2] = {{socket_.native_handle(), POLLRDHUP, 0}, {stop_fd_, POLLIN, 0}};
      int r = ::poll(fds, 2, static_cast<int>(left));
      if (r < 0 && errno != EINTR) return false;
      if (r <= 0) continue;
      if (fds[1].revents != 0) return false;
      if ((fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) return false;
    }
  }

 private:
  // Waits for `events` on the socket; false with `ec` set on timeout or stop.
  bool wait(short events, boost::system::error_code& ec) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) {
        ec = boost::asio::error::timed_out;
        return false;
      }
      pollfd fds[2] = {{socket_.native_handle(), events, 0}, {stop_fd_, POLLIN, 0}};
      int r = ::poll(fds, 2, static_cast<int>(left));
      if (r < 0 && errno != EINTR) {
        ec.assign(errno, boost::system::system_category());
        return false;
      }
      if (r <= 0) continue;
      if (fds[1].revents != 0) {
        ec = boost::asio::error::operation_aborted;
        return false;
      }
      ec = {};
      return true;  // ready, or an error the next read or write reports
    }
  }

  boost::asio::ip::tcp::socket& socket_;
  int stop_fd_;
  Clock::time_point deadline_ = Clock::now() + std::chrono::seconds(30);
};

}  // namespace meadow::demo_site
