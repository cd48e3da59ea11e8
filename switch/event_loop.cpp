#include "switch/event_loop.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace tapswitch {

EventLoop::EventLoop() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!ep_) fail("epoll_create1: {}", std::strerror(errno));
}

void EventLoop::add(int fd, uint32_t events, Callback cb) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl add fd {}: {}", fd, std::strerror(errno));
  callbacks_[fd] = std::make_shared<Callback>(std::move(cb));
}

void EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) {
  ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
  callbacks_.erase(fd);
}

void EventLoop::run_once(int timeout_ms) {
  epoll_event evs[32];
  int n = ::epoll_wait(ep_.get(), evs, 32, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto it = callbacks_.find(evs[i].data.fd);
    if (it == callbacks_.end()) continue;  // removed by an earlier callback
    auto cb = it->second;                  // keep it alive while it runs
    std::unique_lock<std::mutex> held;
    if (dispatch_lock_) held = std::unique_lock<std::mutex>(*dispatch_lock_);
    (*cb)(evs[i].events);
  }
}

}  // namespace tapswitch
