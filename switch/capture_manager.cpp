#include "switch/capture_manager.h"

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "switch/switch.h"

namespace tapswitch {

CaptureManager::~CaptureManager() {
  for (auto& [id, e] : sessions_) unhook(e);
}

uint64_t CaptureManager::start(const CaptureOptions& opt, UniqueFd fd, uint64_t client) {
  const PortRecord* rec = sw_.find_port(opt.port);
  if (!rec) fail("there is no port named '{}'", opt.port);
  if (sw_.captures().busy(rec->id)) fail("port {} is already being captured", opt.port);
  if (!fd) fail("capture needs a file: tapswitchctl passes the one it opened for -w");
  const uint64_t id = next_id_++;
  auto s = std::make_unique<CaptureSession>(id, opt, std::move(fd), client);
  sw_.captures().set(rec->id, s.get(), opt.rx, opt.tx);
  sessions_[id] = Entry{std::move(s), rec->id, true};
  spdlog::info("capture {} started on port {} ({})", id, opt.port,
               opt.rx && opt.tx ? "rx and tx" : opt.rx ? "rx" : "tx");
  return id;
}

void CaptureManager::unhook(Entry& e) {
  if (!e.hooked) return;
  e.hooked = false;
  // The port may have been removed (and its table entry cleared) already.
  if (sw_.captures().rx(e.port) == e.session.get() || sw_.captures().tx(e.port) == e.session.get())
    sw_.captures().clear(e.port);
  sw_.sync_workers();  // no worker is inside offer() once this returns
  e.session->drain();
}

CaptureManager::Entry& CaptureManager::find(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) fail("there is no capture {}", id);
  return it->second;
}

CaptureStatus CaptureManager::status(uint64_t id) {
  Entry& e = find(id);
  if (e.hooked && !e.session->drain()) unhook(e);
  return e.session->status();
}

CaptureStatus CaptureManager::stop(uint64_t id) {
  Entry& e = find(id);
  unhook(e);
  CaptureStatus st = e.session->status();
  st.done = true;
  sessions_.erase(id);
  spdlog::info("capture {} on port {} stopped: {} frames written, {} dropped", id, st.port, st.written, st.dropped);
  return st;
}

void CaptureManager::client_closed(uint64_t client) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.session->owner() == client) {
      unhook(it->second);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void CaptureManager::poll() {
  for (auto& [id, e] : sessions_) {
    if (!e.hooked) continue;
    const PortRecord* r = sw_.port(e.port);
    const bool gone = !r || r->port->name() != e.session->options().port;
    if (gone || !e.session->drain()) unhook(e);
  }
}

}  // namespace tapswitch
