#include "switch/ctl_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "switch/config_check.h"

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
  const std::string dir = ctl_dir_to_make(path);
  if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    fail("--ctl: cannot create directory '{}': {}", dir, std::strerror(errno));
}

// recv() that also collects file descriptors passed with SCM_RIGHTS (at most 4 are kept;
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

CtlServer::CtlServer(std::string path, CtlServerOptions options) : path_(std::move(path)), options_(std::move(options)) {
  sockaddr_un addr = make_addr(path_);
  const bool grouped = !options_.group.empty();
  const gid_t gid = grouped ? resolve_ctl_group(options_.group) : 0;  // before touching the file system
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
  // The socket file is born with mode 0600: no one else can connect before chmod/chown run.
  // (umask is per process; this runs before any other thread creates files.)
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) fail("--ctl: cannot bind '{}': {}", path_, std::strerror(bind_errno));
  auto undo = [&](const char* what) {
    const int e = errno;
    ::unlink(path_.c_str());
    fail("--ctl: cannot {} '{}': {}", what, path_, std::strerror(e));
  };
  if (grouped) {
    if (::chown(path_.c_str(), static_cast<uid_t>(-1), gid) != 0) undo("give group access to");
    if (::chmod(path_.c_str(), 0660) != 0) undo("chmod");
  } else if (::chmod(path_.c_str(), 0600) != 0) {
    undo("chmod");
  }
  if (::listen(listen_fd_.get(), static_cast<int>(kMaxClients)) != 0) undo("listen on");
}

CtlServer::~CtlServer() {
  detach();
  ::unlink(path_.c_str());
}

void CtlServer::detach() {
  if (loop_) {
    for (auto& [fd, c] : clients_) loop_->remove(fd);
    loop_->remove(listen_fd_.get());
    if (timer_fd_) loop_->remove(timer_fd_.get());
  }
  timer_fd_.reset();
  clients_.clear();
  loop_ = nullptr;
}

void CtlServer::attach(EventLoop& loop, Handler handler) {
  loop_ = &loop;
  handler_ = std::move(handler);
  loop.add(listen_fd_.get(), EPOLLIN, [this](uint32_t) { on_accept(); });
  // Idle clients are looked for a few times per timeout.
  timer_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_fd_) fail("timerfd_create: {}", std::strerror(errno));
  auto period = std::clamp(options_.idle_timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(period).count();
  itimerspec its{};
  its.it_interval.tv_sec = its.it_value.tv_sec = ns / 1000000000;
  its.it_interval.tv_nsec = its.it_value.tv_nsec = ns % 1000000000;
  ::timerfd_settime(timer_fd_.get(), 0, &its, nullptr);
  loop.add(timer_fd_.get(), EPOLLIN, [this](uint32_t) { on_timer(); });
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
    c->last_progress = Clock::now();
    clients_[fd] = std::move(c);
    loop_->add(fd, EPOLLIN | EPOLLRDHUP, [this, fd](uint32_t ev) { on_client(fd, ev); });
  }
}

void CtlServer::on_timer() {
  uint64_t ticks;
  [[maybe_unused]] ssize_t r = ::read(timer_fd_.get(), &ticks, sizeof ticks);
  const auto now = Clock::now();
  std::vector<int> idle;
  for (const auto& [fd, c] : clients_)
    if (now - c->last_progress > options_.idle_timeout) idle.push_back(fd);
  for (int fd : idle) {
    spdlog::debug("control client made no progress for {} ms; disconnected", options_.idle_timeout.count());
    drop(fd);
  }
}

void CtlServer::on_client(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = *it->second;
  if (events & EPOLLERR) {
    drop(fd);
    return;
  }
  if (!c.closing && !c.eof && !paused(c) && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) read_input(c);
  flush(c);
}

void CtlServer::read_input(Client& c) {
  char buf[16384];
  while (!c.closing && !paused(c)) {
    ssize_t n = recv_with_fds(c.fd.get(), buf, sizeof buf, c.passed);
    if (n > 0) {
      c.last_progress = Clock::now();
      c.in.append(buf, static_cast<size_t>(n));
      process_lines(c);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n == 0) {
      // End of input: a last request without its newline is still answered.
      c.eof = true;
      std::string rest;
      rest.swap(c.in);
      if (rest.find_first_not_of(" \t\r") != std::string::npos) handle_line(c, rest);
    } else {
      c.in.clear();  // reset by the peer: nothing more can be sent either
      c.out.clear();
    }
    c.closing = true;
  }
}

void CtlServer::process_lines(Client& c) {
  while (!c.closing && !paused(c)) {
    const size_t nl = c.in.find('\n');
    if (nl == std::string::npos ? c.in.size() > kMaxRequest : nl > kMaxRequest) {
      c.in.clear();
      queue_error(c, "request too large (limit " + std::to_string(kMaxRequest) + " bytes)");
      c.closing = true;
      return;
    }
    if (nl == std::string::npos) return;
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    handle_line(c, line);
  }
}

void CtlServer::queue_error(Client& c, const std::string& why) {
  c.out += nlohmann::json{{"ok", false}, {"error", why}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  c.out += '\n';
}

void CtlServer::handle_line(Client& c, const std::string& line) {
  // A passed fd belongs to the request it came with, well-formed or not.
  UniqueFd passed;
  if (!c.passed.empty()) {
    passed = std::move(c.passed.front());
    c.passed.erase(c.passed.begin());
  }
  nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
  if (req.is_discarded()) return queue_error(c, "malformed request: not valid JSON (or not UTF-8)");
  if (!req.is_object() || !req.contains("argv") || !req["argv"].is_array())
    return queue_error(c, "malformed request: expected {\"argv\": [\"word\", ...], \"json\": false}");
  CtlRequest r;
  r.client = c.id;
  r.fd = passed.get();
  for (const auto& a : req["argv"]) {
    if (!a.is_string()) return queue_error(c, "malformed request: argv must hold strings only");
    r.argv.push_back(a.get<std::string>());
  }
  if (req.contains("json")) {
    if (!req["json"].is_boolean()) return queue_error(c, "malformed request: json must be true or false");
    r.json = req["json"].get<bool>();
  }
  nlohmann::json reply;
  try {
    CtlReply out = handler_(r);
    if (!out.ok) {
      reply = {{"ok", false}, {"error", out.error}};
    } else if (r.json) {
      reply = {{"ok", true}, {"data", std::move(out.data)}};
    } else {
      reply = {{"ok", true}, {"text", std::move(out.text)}};
    }
  } catch (const std::exception& e) {
    reply = {{"ok", false}, {"error", e.what()}};
  }
  c.out += reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  c.out += '\n';
}

bool CtlServer::flush(Client& c) {
  const int fd = c.fd.get();
  for (;;) {
    bool blocked = false;
    while (!c.out.empty()) {
      ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out.erase(0, static_cast<size_t>(n));
        c.last_progress = Clock::now();
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        blocked = true;
        break;
      } else {
        drop(fd);  // the client went away
        return false;
      }
    }
    if (!blocked && c.closing) {
      drop(fd);
      return false;
    }
    // Requests held back while the client was not reading can go on now.
    const size_t pending = c.out.size();
    if (!c.closing && !paused(c)) process_lines(c);
    if (blocked || c.out.size() == pending) break;
  }
  uint32_t ev = 0;
  if (!c.closing && !c.eof && !paused(c)) ev |= EPOLLIN | EPOLLRDHUP;
  if (!c.out.empty()) ev |= EPOLLOUT;
  loop_->modify(fd, ev);
  return true;
}

void CtlServer::drop(int fd) {
  loop_->remove(fd);
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  const uint64_t id = it->second->id;
  clients_.erase(it);
  if (on_close_) on_close_(id);
}

std::string ctl_dir_to_make(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  const std::string dir = path.substr(0, slash);
  struct stat st{};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail("--ctl: '{}' is not a directory", dir);
    return "";
  }
  const auto up = dir.rfind('/');
  const std::string parent = up == std::string::npos ? "." : up == 0 ? "/" : dir.substr(0, up);
  int err = 0;
  if (::stat(parent.c_str(), &st) != 0) err = errno;
  else if (!S_ISDIR(st.st_mode)) err = ENOTDIR;
  if (err) fail("--ctl: cannot create directory '{}': {}", dir, std::strerror(err));
  return dir;
}

}  // namespace tapswitch
