// EventLoop: a small epoll loop for the control thread (control socket, signals, FDB writer).
//
// Callbacks run on the thread that calls run_once(). A callback may add or remove fds,
// including its own. Not for the data path. With a dispatch lock set, each callback runs with
// that mutex held (never the wait itself), so other threads can exclude event handling.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "base/unique_fd.h"

namespace tapswitch {

class EventLoop {
 public:
  using Callback = std::function<void(uint32_t events)>;

  EventLoop();
  void add(int fd, uint32_t events, Callback cb);
  void modify(int fd, uint32_t events);
  void remove(int fd);
  // Callbacks run holding *lock from now on (nullptr: no lock).
  void set_dispatch_lock(std::mutex* lock) { dispatch_lock_ = lock; }
  // Waits up to timeout_ms (-1: forever) and dispatches what is ready.
  void run_once(int timeout_ms);

 private:
  UniqueFd ep_;
  std::unordered_map<int, std::shared_ptr<Callback>> callbacks_;
  std::mutex* dispatch_lock_ = nullptr;
};

}  // namespace tapswitch
