// CaptureManager: the capture sessions `tapswitchctl capture` starts, on the control thread.
//
// A session writes to a file descriptor the client passed over the control socket, so the
// file is opened with the client's own permissions, never the daemon's. It ends when its frame
// count is reached, when the client stops it, when the client's connection closes, or when its
// port is removed. The control loop calls poll() every few milliseconds while sessions exist.
//
// Concurrency: control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "base/unique_fd.h"
#include "capture/capture_session.h"
#include "switch/capture_table.h"

namespace tapswitch {

class Switch;

class CaptureManager {
 public:
  explicit CaptureManager(Switch& sw) : sw_(sw) {}
  ~CaptureManager();

  // Throws Error for an unknown port, a port already captured, or an unwritable file.
  uint64_t start(const CaptureOptions& opt, UniqueFd fd, uint64_t client);
  // Throws Error for an unknown id.
  CaptureStatus status(uint64_t id);
  CaptureStatus stop(uint64_t id);
  void client_closed(uint64_t client);
  void poll();
  bool active() const noexcept { return !sessions_.empty(); }

 private:
  struct Entry {
    std::unique_ptr<CaptureSession> session;
    uint16_t port;
    bool hooked;
  };
  void unhook(Entry& e);
  Entry& find(uint64_t id);

  Switch& sw_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> sessions_;
};

}  // namespace tapswitch
