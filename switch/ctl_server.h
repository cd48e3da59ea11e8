// CtlServer: the control socket (a UNIX stream socket).
//
// Access: mode 0600, owned by the user running tapswitch (root), unless a group is given
// (--ctl-group): then mode 0660 and owned by that group, so its members may connect. The
// socket is created with those permissions from the start (umask during bind), never wider.
//
// Protocol, one JSON object per line each way:
//   request  {"argv": ["show", "fdb"], "json": true}
//   reply    {"ok": true, "data": ...}   when json was requested
//            {"ok": true, "text": "..."} otherwise
//            {"ok": false, "error": "..."}
// A client may send several requests on one connection; replies come in order. A request
// without its newline is answered when the client shuts down its writing side. A client may
// pass one file descriptor with a request (SCM_RIGHTS), e.g. the file a capture writes to; at
// most 4 wait for their requests, extra ones are closed.
//
// Robustness (nothing a client sends can crash or block the daemon):
//  - invalid JSON or UTF-8, wrong types, an unknown command: an error reply; the connection
//    stays usable;
//  - a request line over kMaxRequest bytes: an error reply, then the connection is closed;
//  - a hang-up in the middle of a request: the partial request gets an error reply (which no
//    one reads) and the connection is closed;
//  - sockets are non-blocking and every client has its own buffers. Replies wait in the
//    client's output buffer until it reads them; while more than max_pending_output bytes
//    wait, the server reads no further requests from that client (backpressure), so a client
//    that never reads cannot make the daemon's memory grow;
//  - a client that makes no progress (sends nothing, or does not read its replies) for
//    idle_timeout is disconnected, so stuck clients cannot hold the kMaxClients slots;
//  - beyond kMaxClients, new connections get an error reply and are closed.
//
// Concurrency: control thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/unique_fd.h"
#include "switch/event_loop.h"

namespace tapswitch {

struct CtlRequest {
  std::vector<std::string> argv;
  bool json = false;
  int fd = -1;          // a file descriptor the client passed (SCM_RIGHTS) with this request;
                        // valid during the handler only: dup() it to keep it
  uint64_t client = 0;  // identifies the connection, for state that ends when it closes
};

struct CtlReply {
  bool ok = true;
  nlohmann::json data;  // when the request asked for JSON
  std::string text;     // otherwise
  std::string error;    // when !ok

  static CtlReply failure(std::string why) {
    CtlReply r;
    r.ok = false;
    r.error = std::move(why);
    return r;
  }
};

struct CtlServerOptions {
  std::string group;  // empty: mode 0600; else mode 0660 and this group (name or number)
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_pending_output = 4 << 20;
};

// The directory of control socket `path` that a start creates, or "" when it exists: one
// missing level only. Throws Error, as the start would, when it cannot be made (its parent is
// missing or not a directory) or the path's directory is not one. (--check-config asks too.)
std::string ctl_dir_to_make(const std::string& path);

class CtlServer {
 public:
  using Handler = std::function<CtlReply(const CtlRequest&)>;
  static constexpr size_t kMaxRequest = 64 * 1024;
  static constexpr size_t kMaxClients = 64;

  // Binds and listens at path. Throws Error if the path is used by a live instance, cannot be
  // created, is not a socket, or the group does not exist. A stale socket from a dead instance
  // is replaced.
  explicit CtlServer(std::string path, CtlServerOptions options = {});
  ~CtlServer();
  CtlServer(const CtlServer&) = delete;
  CtlServer& operator=(const CtlServer&) = delete;

  void attach(EventLoop& loop, Handler handler);
  // Called with CtlRequest::client when that connection closes.
  void on_close(std::function<void(uint64_t client)> fn) { on_close_ = std::move(fn); }
  // Closes every client and stops listening on the loop (the socket stays bound).
  void detach();
  const std::string& path() const { return path_; }
  size_t clients() const { return clients_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Client {
    UniqueFd fd;
    uint64_t id = 0;
    std::vector<UniqueFd> passed;  // fds received, for the next requests
    std::string in, out;
    bool closing = false;  // reply queued; close once it is sent
    bool eof = false;      // the client shut down its writing side
    Clock::time_point last_progress;
  };

  void on_accept();
  void on_client(int fd, uint32_t events);
  void on_timer();
  void read_input(Client& c);
  void process_lines(Client& c);
  void handle_line(Client& c, const std::string& line);
  void queue_error(Client& c, const std::string& why);
  // Sends what it can, then closes the client or sets its epoll interest. False if dropped.
  bool flush(Client& c);
  bool paused(const Client& c) const { return c.out.size() > options_.max_pending_output; }
  void drop(int fd);

  std::string path_;
  CtlServerOptions options_;
  UniqueFd listen_fd_;
  UniqueFd timer_fd_;
  EventLoop* loop_ = nullptr;
  Handler handler_;
  std::map<int, std::unique_ptr<Client>> clients_;
  std::function<void(uint64_t)> on_close_;
  uint64_t next_client_ = 1;
};

}  // namespace tapswitch
