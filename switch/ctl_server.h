// CtlServer: the control socket (a UNIX stream socket, mode 0600).
//
// Protocol, one JSON object per line each way:
//   request  {"argv": ["show", "fdb"], "json": true}
//   reply    {"ok": true, "data": ...}   when json was requested
//            {"ok": true, "text": "..."} otherwise
//            {"ok": false, "error": "..."}
// A client may send several requests on one connection, and may pass one file descriptor
// with a request (SCM_RIGHTS), e.g. the file a capture writes to. A request line longer than
// kMaxRequest, invalid JSON or an unknown command gets an error reply; an oversized one also
// closes the connection. Nothing a client sends can crash or block the daemon: sockets are
// non-blocking and replies are queued until the client reads them.
//
// Concurrency: control thread only.
#pragma once

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

class CtlServer {
 public:
  using Handler = std::function<CtlReply(const CtlRequest&)>;
  static constexpr size_t kMaxRequest = 64 * 1024;
  static constexpr size_t kMaxClients = 64;

  // Binds and listens at path. Throws Error if the path is used by a live instance, cannot be
  // created, or is not a socket. A stale socket from a dead instance is replaced.
  explicit CtlServer(std::string path);
  ~CtlServer();
  CtlServer(const CtlServer&) = delete;
  CtlServer& operator=(const CtlServer&) = delete;

  void attach(EventLoop& loop, Handler handler);
  // Called with CtlRequest::client when that connection closes.
  void on_close(std::function<void(uint64_t client)> fn) { on_close_ = std::move(fn); }
  // Closes every client and stops listening on the loop (the socket stays bound).
  void detach();
  const std::string& path() const { return path_; }

 private:
  struct Client {
    UniqueFd fd;
    uint64_t id = 0;
    std::vector<UniqueFd> passed;  // fds received, for the next request
    std::string in, out;
    bool close_after_write = false;
  };

  void on_accept();
  void on_client(int fd, uint32_t events);
  void handle_line(Client& c, const std::string& line);
  void flush(Client& c);
  void drop(int fd);

  std::string path_;
  UniqueFd listen_fd_;
  EventLoop* loop_ = nullptr;
  Handler handler_;
  std::map<int, std::unique_ptr<Client>> clients_;
  std::function<void(uint64_t)> on_close_;
  uint64_t next_client_ = 1;
};

}  // namespace tapswitch
