// Fdb: the writer's side. Learning, eviction, aging, static entries and flushes.
// Everything here runs on the single writer thread (see the contract in fdb.h).
#include <algorithm>

#include "base/error.h"
#include "fdb/fdb.h"

namespace tapswitch {

namespace {

// Eviction picks the oldest of this many entries of the victim port, found by scanning on
// from where the last eviction stopped; the scan gives up on a fuller sample after kEvictScan
// slots once it has one candidate.
constexpr unsigned kEvictSample = 8;
constexpr uint32_t kEvictScan = 4096;

// Aging: at least this many slots per tick, and a full pass in at most kMaxPassSeconds.
constexpr uint32_t kMinAgeSlice = 65536;
constexpr uint32_t kMaxPassSeconds = 30;

// "a is older than b" on the wrapping 32-bit second clock.
bool older(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

}  // namespace

bool Fdb::insert(FdbKey key, FdbEntry e) {
  if (table_.insert(key.raw, e.pack()) == MacTable::kNone) return false;
  entries_.add();
  if (e.flags & kFdbStatic) {
    statics_.add();
  } else {
    ++port_dynamic_[e.port];
    ports_seen_ = std::max<uint16_t>(ports_seen_, static_cast<uint16_t>(e.port + 1));
  }
  return true;
}

void Fdb::erase(uint32_t slot, FdbEntry e) {
  table_.erase(slot);
  entries_.set(entries_.get() - 1);
  if (e.flags & kFdbStatic)
    statics_.set(statics_.get() - 1);
  else
    --port_dynamic_[e.port];
}

void Fdb::apply(const LearnRequest& req, uint32_t t) {
  if (req.port >= config_.max_ports) return;
  const uint32_t slot = table_.find(req.key.raw);
  if (slot == MacTable::kNone) {
    learn_new(req.key, req.port, t);
    return;
  }
  FdbEntry e = FdbEntry::unpack(table_.at(slot).value);
  if (e.flags & kFdbStatic) {
    if (e.port != req.port) static_conflicts_.add();
    return;
  }
  if (e.port != req.port) {
    if (config_.port_limit && port_dynamic_[req.port] >= config_.port_limit) {
      // It left its old port but may not be learned on the new one: forget it, so that
      // frames to it flood (and reach it) instead of going where it no longer is.
      erase(slot, e);
      moved_over_limit_.add();
      refused_.add();
      refused_limit_.add();
      return;
    }
    --port_dynamic_[e.port];
    ++port_dynamic_[req.port];
    ports_seen_ = std::max<uint16_t>(ports_seen_, static_cast<uint16_t>(req.port + 1));
    e.port = req.port;
    moved_.add();
  } else if (e.last_seen == t) {
    return;
  }
  e.last_seen = t;
  table_.set(slot, e.pack());
}

void Fdb::learn_new(FdbKey key, uint16_t port, uint32_t t) {
  if (config_.port_limit && port_dynamic_[port] >= config_.port_limit) {
    refused_.add();
    refused_limit_.add();
    return;
  }
  if (entries_.get() >= config_.capacity && !evict_one()) {
    refused_.add();
    return;
  }
  if (!insert(key, FdbEntry{port, kFdbDynamic, 0, t})) {
    refused_.add();  // no slot within reach of a cuckoo path: practically never at half load
    return;
  }
  learned_.add();
}

bool Fdb::evict_one() {
  uint16_t victim = 0;
  for (uint16_t p = 1; p < ports_seen_; ++p)
    if (port_dynamic_[p] > port_dynamic_[victim]) victim = p;
  if (port_dynamic_[victim] == 0) return false;

  const uint32_t n = table_.slot_count();  // a power of two
  uint32_t best = MacTable::kNone;
  FdbEntry best_entry{};
  unsigned found = 0;
  for (uint32_t scanned = 0; scanned < n; ++scanned) {
    const uint32_t slot = evict_cursor_;
    evict_cursor_ = (evict_cursor_ + 1) & (n - 1);
    const MacTable::Entry me = table_.at(slot);
    if (me.used()) {
      const FdbEntry e = FdbEntry::unpack(me.value);
      if (!(e.flags & kFdbStatic) && e.port == victim) {
        if (best == MacTable::kNone || older(e.last_seen, best_entry.last_seen)) {
          best = slot;
          best_entry = e;
        }
        if (++found == kEvictSample) break;
      }
    }
    if (found && scanned >= kEvictScan) break;
  }
  if (best == MacTable::kNone) return false;  // cannot happen: the port has entries
  erase(best, best_entry);
  evicted_.add();
  return true;
}

unsigned Fdb::age(uint32_t t, bool whole_table) {
  if (config_.aging == 0) return 0;
  const uint32_t n = table_.slot_count();
  const uint32_t pass = std::clamp<uint32_t>(config_.aging / 10, 1, kMaxPassSeconds);
  const uint32_t slice = whole_table ? n : std::min(n, std::max(kMinAgeSlice, (n + pass - 1) / pass));
  unsigned aged = 0;
  for (uint32_t i = 0; i < slice; ++i) {
    const uint32_t slot = age_cursor_;
    age_cursor_ = (age_cursor_ + 1) & (n - 1);
    if (table_.empty_bucket_at(slot)) {
      // An empty bucket, known from its 4-byte tag: its 64-byte line is not read. A mostly
      // empty table then costs a sixteenth of the memory traffic per pass.
      age_cursor_ = (slot + MacTable::kWays) & (n - 1);
      i += MacTable::kWays - 1;
      continue;
    }
    const MacTable::Entry me = table_.at(slot);
    if (!me.used()) continue;
    const FdbEntry e = FdbEntry::unpack(me.value);
    if (e.flags & kFdbStatic) continue;
    if (static_cast<int64_t>(static_cast<int32_t>(t - e.last_seen)) > static_cast<int64_t>(config_.aging)) {
      erase(slot, e);
      ++aged;
    }
  }
  aged_.add(aged);
  return aged;
}

FdbAdd Fdb::add_static(FdbKey key, uint16_t port) {
  if (port >= config_.max_ports) fail("port id {} is out of range (below {})", port, config_.max_ports);
  const FdbEntry e{port, kFdbStatic, 0, writer_now()};
  const uint32_t slot = table_.find(key.raw);
  if (slot != MacTable::kNone) {
    const FdbEntry old = FdbEntry::unpack(table_.at(slot).value);
    table_.set(slot, e.pack());
    if (old.flags & kFdbStatic) return FdbAdd::replaced;
    --port_dynamic_[old.port];  // the learned entry is gone, by command: counted as flushed
    statics_.add();
    flushed_.add();
    return FdbAdd::made_static;
  }
  if (entries_.get() >= config_.capacity && !evict_one()) return FdbAdd::full;
  return insert(key, e) ? FdbAdd::added : FdbAdd::full;
}

bool Fdb::remove(FdbKey key) {
  const uint32_t slot = table_.find(key.raw);
  if (slot == MacTable::kNone) return false;
  erase(slot, FdbEntry::unpack(table_.at(slot).value));
  flushed_.add();
  return true;
}

unsigned Fdb::flush_if(const std::function<bool(FdbKey, FdbEntry)>& match) {
  process_learning();  // requests queued before the flush come first
  unsigned removed = 0;
  for (uint32_t slot = 0, n = table_.slot_count(); slot < n; ++slot) {
    if (table_.empty_bucket_at(slot)) {
      slot += MacTable::kWays - 1;
      continue;
    }
    const MacTable::Entry me = table_.at(slot);
    if (!me.used()) continue;
    const FdbEntry e = FdbEntry::unpack(me.value);
    if (!match(FdbKey{me.key}, e)) continue;
    erase(slot, e);
    ++removed;
  }
  flushed_.add(removed);
  return removed;
}

unsigned Fdb::flush_all(FdbScope scope) {
  return flush_if([&](FdbKey, FdbEntry e) { return scope == FdbScope::all || !(e.flags & kFdbStatic); });
}

unsigned Fdb::flush_port(uint16_t port, FdbScope scope) {
  return flush_if([&](FdbKey, FdbEntry e) {
    return e.port == port && (scope == FdbScope::all || !(e.flags & kFdbStatic));
  });
}

unsigned Fdb::flush_vlan(uint16_t vlan, FdbScope scope) {
  return flush_if([&](FdbKey k, FdbEntry e) {
    return k.vlan() == vlan && (scope == FdbScope::all || !(e.flags & kFdbStatic));
  });
}

unsigned Fdb::remove_port(uint16_t port) {
  const unsigned removed = flush_port(port, FdbScope::all);
  synchronize();
  return removed;
}

}  // namespace tapswitch
