#include "switch/capture_manager.h"

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "switch/switch.h"

namespace tapswitch {

CaptureManager::~CaptureManager() {
  for (auto& [id, e] : sessions_) {
    unhook(e);
    const CaptureStatus st = e.session->status();
    spdlog::info("capture {} on port {} ended with the switch: {} frames written, {} dropped", id, st.port, st.written,
                 st.dropped);
  }
}

uint64_t CaptureManager::start(const CaptureOptions& opt, UniqueFd fd, uint64_t client) {
  const PortRecord* rec = sw_.find_port(opt.port);
  if (!rec) fail("there is no port named '{}'", opt.port);
  if (rec->detached) fail("port {} has no interface at the moment (deleted, or not there yet)", opt.port);
  const CaptureSession* rx = opt.rx ? sw_.captures().rx(rec->id) : nullptr;
  const CaptureSession* tx = opt.tx ? sw_.captures().tx(rec->id) : nullptr;
  if (rx || tx)
    fail("port {} is already being captured ({} by capture {}); a port takes one rx and one tx capture at a time",
         opt.port, rx ? "rx" : "tx", (rx ? rx : tx)->status().id);
  if (!fd) fail("capture needs a file: tapswitchctl passes the one it opened for -w");
  // The id is taken only once the session exists: a refused capture uses none.
  const uint64_t id = next_id_;
  auto s = std::make_unique<CaptureSession>(id, opt, std::move(fd), client);
  ++next_id_;
  sw_.captures().set(rec->id, s.get(), opt.rx, opt.tx);
  sessions_[id] = Entry{std::move(s), rec->id, true, {}};
  spdlog::info("capture {} started on port {} ({})", id, opt.port,
               opt.rx && opt.tx ? "rx and tx" : opt.rx ? "rx" : "tx");
  return id;
}

void CaptureManager::unhook(Entry& e) {
  if (!e.hooked) return;
  e.hooked = false;
  // The port may have been removed (and its table entry cleared) already.
  sw_.captures().clear(e.port, e.session.get());
  sw_.sync_workers();  // no worker is inside offer() once this returns
  e.session->drain();
}

// Why the session's port no longer feeds it, or null while it does.
const char* CaptureManager::port_gone(const Entry& e) const {
  const PortRecord* r = sw_.port(e.port);
  if (!r || r->port->name() != e.session->options().port) return "was removed";
  if (r->detached) return "lost its interface (it was deleted)";
  if (!sw_.captures().holds(e.port, e.session.get())) return "was removed";  // and came back since
  return nullptr;
}

void CaptureManager::update(uint64_t id, Entry& e) {
  if (!e.hooked) return;
  if (const char* why = port_gone(e)) {
    e.ended = fmt::format("port {} {}", e.session->options().port, why);
    spdlog::info("capture {} ended: {}", id, e.ended);
    unhook(e);
  } else if (!e.session->drain()) {
    unhook(e);
  }
}

CaptureReport CaptureManager::report(const Entry& e) const {
  CaptureReport r{e.session->status(), e.ended};
  if (!e.hooked) r.status.done = true;
  return r;
}

CaptureManager::Entry& CaptureManager::find(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) fail("there is no capture {}", id);
  return it->second;
}

CaptureReport CaptureManager::status(uint64_t id) {
  Entry& e = find(id);
  update(id, e);
  return report(e);
}

CaptureReport CaptureManager::stop(uint64_t id) {
  Entry& e = find(id);
  unhook(e);
  CaptureReport r = report(e);
  sessions_.erase(id);
  spdlog::info("capture {} on port {} stopped: {} frames written, {} dropped", id, r.status.port, r.status.written,
               r.status.dropped);
  return r;
}

void CaptureManager::client_closed(uint64_t client) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.session->owner() == client) {
      unhook(it->second);
      const CaptureStatus st = it->second.session->status();
      spdlog::info("capture {} on port {} ended with its client's connection: {} frames written, {} dropped", it->first,
                   st.port, st.written, st.dropped);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void CaptureManager::poll() {
  for (auto& [id, e] : sessions_) update(id, e);
}

}  // namespace tapswitch
