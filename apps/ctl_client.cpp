#include "apps/ctl_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tapswitch {

namespace {
constexpr int kTimeoutMs = 10000;
}

CtlClient::CtlClient(const std::string& path) : path_(path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error_ = "control socket path too long";
    return;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    error_ = "cannot connect to " + path + ": " + std::strerror(e) +
             (e == EACCES ? " (only root and members of tapswitch's --ctl-group may use it)" : " (is tapswitch running?)");
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
}

CtlClient::~CtlClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool CtlClient::request(const std::vector<std::string>& argv, bool json, nlohmann::json& reply, int pass_fd) {
  std::string req = nlohmann::json{{"argv", argv}, {"json", json}}.dump() + "\n";
  for (size_t off = 0; off < req.size();) {
    iovec iov{req.data() + off, req.size() - off};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
    if (pass_fd >= 0 && off == 0) {
      msg.msg_control = ctrl;
      msg.msg_controllen = sizeof ctrl;
      cmsghdr* cm = CMSG_FIRSTHDR(&msg);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    }
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      gone_ = errno == EPIPE || errno == ECONNRESET;
      error_ = "cannot send to " + path_ + ": " + std::strerror(errno);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  char chunk[65536];
  size_t nl;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  while ((nl = buf_.find('\n')) == std::string::npos) {
    using std::chrono::milliseconds, std::chrono::steady_clock;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (ready < 0 && errno == EINTR) continue;  // a signal (Ctrl-C, SIGCONT): keep waiting
    if (ready < 0) {
      error_ = "cannot wait for " + path_ + ": " + std::strerror(errno);
      return false;
    }
    if (ready == 0) {
      error_ = "no reply from " + path_ + " within " + std::to_string(kTimeoutMs / 1000) + " s";
      return false;
    }
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      gone_ = n == 0 || errno == ECONNRESET;
      error_ = "the switch closed the connection";
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
  }
  reply = nlohmann::json::parse(buf_.substr(0, nl), nullptr, false);
  buf_.erase(0, nl + 1);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok")) {
    error_ = "malformed reply from " + path_;
    return false;
  }
  return true;
}

}  // namespace tapswitch
