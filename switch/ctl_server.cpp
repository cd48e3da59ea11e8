#include "switch/ctl_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "base/error.h"

namespace tapswitch {

namespace {

sockaddr_un make_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) fail("--ctl: path '{}' is too long for a UNIX socket", path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

void ensure_parent(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  std::string dir = path.substr(0, slash);
  struct stat st{};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail("--ctl: '{}' is not a directory", dir);
    return;
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    fail("--ctl: cannot create directory '{}': {}", dir, std::strerror(errno));
}

}  // namespace

namespace {

// recv() that also collects file descriptors passed with SCM_RIGHTS (at most a few are kept;
// extra ones are closed).
ssize_t recv_with_fds(int fd, char* buf, size_t len, std::vector<UniqueFd>& fds) {
  iovec iov{buf, len};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(cm) + i * sizeof(int), sizeof passed);
      UniqueFd u(passed);
      if (fds.size() < 4) fds.push_back(std::move(u));
    }
  }
  return n;
}

}  // namespace

CtlServer::CtlServer(std::string path) : path_(std::move(path)) {
  sockaddr_un addr = make_addr(path_);
  ensure_parent(path_);
  struct stat st{};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) fail("--ctl: '{}' exists and is not a socket", path_);
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
      fail("--ctl: '{}' is in use by another running tapswitch (give each instance its own --ctl)", path_);
    ::unlink(path_.c_str());  // stale, from an instance that did not shut down
  }
  listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_) fail("--ctl: socket: {}", std::strerror(errno));
  if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    fail("--ctl: cannot bind '{}': {}", path_, std::strerror(errno));
  if (::chmod(path_.c_str(), 0600) != 0 || ::listen(listen_fd_.get(), 16) != 0) {
    int e = errno;
    ::unlink(path_.c_str());
    fail("--ctl: cannot listen on '{}': {}", path_, std::strerror(e));
  }
}

CtlServer::~CtlServer() {
  detach();
  ::unlink(path_.c_str());
}

void CtlServer::detach() {
  if (loop_) {
    for (auto& [fd, c] : clients_) loop_->remove(fd);
    loop_->remove(listen_fd_.get());
  }
  clients_.clear();
  loop_ = nullptr;
}

void CtlServer::attach(EventLoop& loop, Handler handler) {
  loop_ = &loop;
  handler_ = std::move(handler);
  loop.add(listen_fd_.get(), EPOLLIN, [this](uint32_t) { on_accept(); });
}

void CtlServer::on_accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= kMaxClients) {
      static const char kBusy[] = "{\"ok\":false,\"error\":\"too many control clients\"}\n";
      [[maybe_unused]] ssize_t r = ::send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Client>();
    c->fd.reset(fd);
    c->id = next_client_++;
    clients_[fd] = std::move(c);
    loop_->add(fd, EPOLLIN | EPOLLRDHUP, [this, fd](uint32_t ev) { on_client(fd, ev); });
  }
}

void CtlServer::on_client(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = *it->second;
  if (events & EPOLLOUT) flush(c);
  if (!clients_.count(fd)) return;
  if (!c.close_after_write && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    char buf[8192];
    for (;;) {
      ssize_t n = recv_with_fds(fd, buf, sizeof buf, c.passed);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        size_t nl;
        while (!c.close_after_write && (nl = c.in.find('\n')) != std::string::npos) {
          std::string line = c.in.substr(0, nl);
          c.in.erase(0, nl + 1);
          handle_line(c, line);
        }
        if (!c.close_after_write && c.in.size() > kMaxRequest) {
          c.in.clear();
          CtlReply r = CtlReply::failure("request too large (limit " + std::to_string(kMaxRequest) + " bytes)");
          c.out += nlohmann::json{{"ok", false}, {"error", r.error}}.dump() + "\n";
          c.close_after_write = true;
        }
        if (c.close_after_write) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      // EOF or error: a request without its newline is answered, then the connection closes.
      if (!c.in.empty() && n == 0) {
        std::string line;
        line.swap(c.in);
        handle_line(c, line);
      }
      c.close_after_write = true;
      break;
    }
  }
  flush(c);
}

void CtlServer::handle_line(Client& c, const std::string& line) {
  nlohmann::json reply;
  try {
    nlohmann::json req = nlohmann::json::parse(line);
    if (!req.is_object() || !req.contains("argv") || !req["argv"].is_array())
      throw Error("malformed request: expected {\"argv\": [...]}");
    CtlRequest r;
    r.client = c.id;
    UniqueFd passed;
    if (!c.passed.empty()) {
      passed = std::move(c.passed.front());
      c.passed.erase(c.passed.begin());
      r.fd = passed.get();
    }
    for (const auto& a : req["argv"]) {
      if (!a.is_string()) throw Error("malformed request: argv must hold strings");
      r.argv.push_back(a.get<std::string>());
    }
    if (req.contains("json")) r.json = req["json"].is_boolean() && req["json"].get<bool>();
    CtlReply out = handler_(r);
    if (!out.ok) {
      reply = {{"ok", false}, {"error", out.error}};
    } else if (r.json) {
      reply = {{"ok", true}, {"data", out.data}};
    } else {
      reply = {{"ok", true}, {"text", out.text}};
    }
  } catch (const nlohmann::json::exception&) {
    reply = {{"ok", false}, {"error", "malformed request: not JSON"}};
  } catch (const std::exception& e) {
    reply = {{"ok", false}, {"error", e.what()}};
  }
  c.out += reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void CtlServer::flush(Client& c) {
  const int fd = c.fd.get();
  while (!c.out.empty()) {
    ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      // Wait until the client reads; once it is closing, only writability matters.
      loop_->modify(fd, c.close_after_write ? EPOLLOUT : (EPOLLIN | EPOLLRDHUP | EPOLLOUT));
      return;
    }
    drop(fd);  // the client went away
    return;
  }
  if (c.close_after_write) {
    drop(fd);
    return;
  }
  loop_->modify(fd, EPOLLIN | EPOLLRDHUP);
}

void CtlServer::drop(int fd) {
  loop_->remove(fd);
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  const uint64_t id = it->second->id;
  clients_.erase(it);
  if (on_close_) on_close_(id);
}

}  // namespace tapswitch
