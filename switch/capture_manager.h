// CaptureManager: the capture sessions `tapswitchctl capture` starts, on the control thread.
//
// A session writes to a file descriptor the client passed over the control socket, so the
// file is opened with the client's own permissions, never the daemon's; the session empties a
// regular file only once the capture is accepted. A port may have one capture per direction
// at a time (an rx and a tx capture may run side by side). A session ends when its frame count
// is reached, when the client stops it, when the client's connection closes, or when its port
// is removed or its interface deleted (status then says done, and why). The control loop
// calls poll() every few milliseconds while sessions exist.
//
// Concurrency: control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "capture/capture_session.h"
#include "switch/capture_table.h"

namespace tapswitch {

class Switch;

// What `capture status` and `capture stop` report.
struct CaptureReport {
  CaptureStatus status;
  std::string ended;  // why the switch ended it, e.g. "the port was removed"; empty otherwise
};

class CaptureManager {
 public:
  explicit CaptureManager(Switch& sw) : sw_(sw) {}
  ~CaptureManager();

  // Throws Error (consuming no id and leaving the file as it was) for an unknown port, a
  // direction of the port already captured, a missing file or no memory for the copies.
  uint64_t start(const CaptureOptions& opt, UniqueFd fd, uint64_t client);
  // Throws Error for an unknown id.
  CaptureReport status(uint64_t id);
  CaptureReport stop(uint64_t id);
  void client_closed(uint64_t client);
  void poll();
  bool active() const noexcept { return !sessions_.empty(); }

 private:
  struct Entry {
    std::unique_ptr<CaptureSession> session;
    uint16_t port;
    bool hooked;
    std::string ended;
  };
  void unhook(Entry& e);
  void update(uint64_t id, Entry& e);  // writes what is queued; ends the session when it is done
  const char* port_gone(const Entry& e) const;
  CaptureReport report(const Entry& e) const;
  Entry& find(uint64_t id);

  Switch& sw_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> sessions_;
};

}  // namespace tapswitch
