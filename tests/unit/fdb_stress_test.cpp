// Concurrency stress test of the FDB: reader threads doing bulk lookups (and queueing learn
// requests, as workers do) race a learner, an ager and a flusher for FDB_STRESS_SECONDS
// (default 3). The three writer threads take turns through a mutex, which is what the
// contract asks: one writer call at a time.
//
// Every dynamic MAC k is only ever learned on one of two ports, legal(k); every static MAC has
// one fixed port. A reader checks each result:
//   - a hit on a dynamic MAC names one of its two ports, flagged dynamic, with a last_seen
//     no later than the writer's clock: anything else is a torn or misdirected entry;
//   - a static MAC always hits, on its port, flagged static: never lost, never moved.
// At the end the writer's bookkeeping, and the table's summary of fingerprints and overflow
// flags, must match the table. Nothing here is timed.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fdb/fdb.h"
#include "tests/unit/eal_env.h"
#include "tests/unit/mac_table_check.h"

namespace tapswitch {
namespace {

constexpr unsigned kReaders = 3;
constexpr unsigned kDynamic = 6000;  // more MACs than fit: eviction never stops
constexpr unsigned kStatic = 48;
constexpr uint32_t kCapacity = 2048;
constexpr uint16_t kPorts = 16;  // dynamic MACs use 0..11, statics 12..15
constexpr uint16_t kVlans = 3;

FdbKey dyn_key(unsigned k) {
  const uint8_t mac[6] = {0x02, 0xd0, 0, 0, static_cast<uint8_t>(k >> 8), static_cast<uint8_t>(k)};
  return FdbKey::make(static_cast<uint16_t>(k % kVlans), mac);
}
FdbKey static_key(unsigned s) {
  const uint8_t mac[6] = {0x02, 0x5a, 0, 0, 0, static_cast<uint8_t>(s)};
  return FdbKey::make(static_cast<uint16_t>(s % kVlans), mac);
}
uint16_t legal_a(unsigned k) { return static_cast<uint16_t>(k % 5); }
uint16_t legal_b(unsigned k) { return static_cast<uint16_t>(5 + k % 7); }
uint16_t static_port(unsigned s) { return static_cast<uint16_t>(12 + s % 4); }

double seconds() {
  const char* s = std::getenv("FDB_STRESS_SECONDS");
  return s ? std::atof(s) : 3.0;
}

struct Failures {
  std::atomic<uint64_t> count{0};
  std::mutex mu;
  std::string first;
  void add(const std::string& what) {
    if (count.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> l(mu);
      first = what;
    }
  }
};

TEST(FdbStress, ReadersNeverSeeTornMovedOrLostEntries) {
  FdbConfig c;
  c.capacity = kCapacity;
  c.workers = kReaders;
  c.aging = 5;
  c.max_ports = kPorts;
  c.learn_ring = 1024;
  c.port_limit = 250;
  std::atomic<uint32_t> clock{1000};  // the writers' simulated seconds
  c.clock = [&clock] { return clock.load(); };
  Fdb fdb(c);
  for (unsigned s = 0; s < kStatic; ++s) ASSERT_EQ(fdb.add_static(static_key(s), static_port(s)), FdbAdd::added);

  std::mutex writer;                   // one writer call at a time
  std::atomic<bool> stop{false};
  Failures fail;
  std::atomic<uint64_t> lookups{0}, hits{0}, static_hits{0}, removals{0};

  auto reader = [&](unsigned id) {
    std::mt19937_64 rng(id + 1);
    fdb.reader_online(id);
    FdbKey keys[32];
    unsigned idx[32];
    bool is_static[32];
    FdbEntry out[32];
    uint64_t n_look = 0, n_hit = 0, n_static = 0;
    for (uint64_t iter = 0; !stop.load(std::memory_order_relaxed); ++iter) {
      for (unsigned i = 0; i < 32; ++i) {
        is_static[i] = rng() % 8 == 0;
        idx[i] = static_cast<unsigned>(rng() % (is_static[i] ? kStatic : kDynamic));
        keys[i] = is_static[i] ? static_key(idx[i]) : dyn_key(idx[i]);
      }
      fdb.lookup_bulk(keys, 32, out);
      const uint32_t now = clock.load(std::memory_order_acquire);
      for (unsigned i = 0; i < 32; ++i) {
        const FdbEntry& e = out[i];
        if (is_static[i]) {
          ++n_static;
          if (e.port != static_port(idx[i]) || e.flags != kFdbStatic || e.reserved != 0)
            fail.add("static " + std::to_string(idx[i]) + " read as port " + std::to_string(e.port) +
                     " flags " + std::to_string(e.flags));
        } else if (e.port != kNoPort) {
          ++n_hit;
          const bool legal = e.port == legal_a(idx[i]) || e.port == legal_b(idx[i]);
          if (!legal || e.flags != kFdbDynamic || e.reserved != 0 || static_cast<int32_t>(e.last_seen - now) > 0)
            fail.add("dynamic " + std::to_string(idx[i]) + " read as port " + std::to_string(e.port) + " flags " +
                     std::to_string(e.flags) + " last_seen " + std::to_string(e.last_seen) + " now " +
                     std::to_string(now));
        }
      }
      n_look += 32;
      // Traffic: learn a few MACs on one of their ports; try to spoof a static one.
      for (unsigned j = 0; j < 4; ++j) {
        const unsigned k = static_cast<unsigned>(rng() % kDynamic);
        fdb.request_learn(id, dyn_key(k), rng() & 1 ? legal_a(k) : legal_b(k));
      }
      if (iter % 16 == 0) fdb.request_learn(id, static_key(static_cast<unsigned>(rng() % kStatic)), 3);
      fdb.kick(id);
      if (iter % 8 == 0) fdb.quiescent(id);
    }
    fdb.reader_offline(id);
    lookups += n_look;
    hits += n_hit;
    static_hits += n_static;
  };

  auto learner = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      {
        std::lock_guard<std::mutex> l(writer);
        fdb.process_learning(4096);
      }
      std::this_thread::yield();
    }
  };
  auto ager = [&] {
    for (unsigned i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      {
        std::lock_guard<std::mutex> l(writer);
        const uint32_t now = clock.load() + 1;
        clock.store(now, std::memory_order_release);
        fdb.age(now, i % 4 == 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  auto flusher = [&] {
    std::mt19937_64 rng(99);
    while (!stop.load(std::memory_order_relaxed)) {
      {
        std::lock_guard<std::mutex> l(writer);
        switch (rng() % 6) {
          case 0: fdb.flush_port(static_cast<uint16_t>(rng() % kPorts)); break;
          case 1: fdb.flush_vlan(static_cast<uint16_t>(rng() % kVlans)); break;
          case 2: fdb.flush_all(); break;
          case 3: fdb.remove_port(static_cast<uint16_t>(rng() % 12)); break;  // waits for readers
          default:
            for (int j = 0; j < 64; ++j) removals += fdb.remove(dyn_key(static_cast<unsigned>(rng() % kDynamic)));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };

  std::vector<std::thread> threads;
  for (unsigned r = 0; r < kReaders; ++r) threads.emplace_back(reader, r);
  threads.emplace_back(learner);
  threads.emplace_back(ager);
  threads.emplace_back(flusher);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds()));
  stop = true;
  for (auto& t : threads) t.join();

  EXPECT_EQ(fail.count.load(), 0u) << "first failure: " << fail.first;

  // The writer's bookkeeping matches the table.
  const FdbStats s = fdb.stats();
  std::set<uint64_t> seen;
  std::map<uint16_t, uint32_t> per_port;
  unsigned statics = 0;
  fdb.for_each([&](const FdbRecord& r) {
    EXPECT_TRUE(seen.insert(r.key.raw).second) << "duplicate key";
    if (r.entry.flags & kFdbStatic)
      ++statics;
    else
      ++per_port[r.entry.port];
  });
  EXPECT_EQ(seen.size(), s.entries);
  EXPECT_LE(s.entries, kCapacity);
  EXPECT_EQ(statics, kStatic);
  EXPECT_EQ(s.static_entries, kStatic);
  for (uint16_t p = 0; p < kPorts; ++p) EXPECT_EQ(fdb.port_entries(p), per_port[p]) << "port " << p;
  EXPECT_EQ(test::tag_mismatch(fdb.table()), "") << "the lookup summary must mirror the table";
  for (unsigned st = 0; st < kStatic; ++st) {
    FdbEntry e;
    const FdbKey k = static_key(st);
    fdb.lookup_bulk(&k, 1, &e);
    EXPECT_EQ(e.port, static_port(st));
  }

  // The run exercised what it claims to.
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_GT(s.learned, 0u);
  EXPECT_GT(s.moved, 0u);
  EXPECT_GT(s.evicted, 0u);
  EXPECT_GT(s.aged, 0u);
  EXPECT_GT(s.flushed, 0u);
  EXPECT_GT(s.static_conflicts, 0u);
  std::printf("fdb stress: %.1f s, %llu lookups (%llu dynamic hits, %llu static), learned %llu, moved %llu, "
              "evicted %llu, aged %llu, flushed %llu, removed %llu, cuckoo moves %llu, static conflicts %llu, "
              "learn drops %llu\n",
              seconds(), (unsigned long long)lookups.load(), (unsigned long long)hits.load(),
              (unsigned long long)static_hits.load(), (unsigned long long)s.learned, (unsigned long long)s.moved,
              (unsigned long long)s.evicted, (unsigned long long)s.aged, (unsigned long long)s.flushed,
              (unsigned long long)removals.load(), (unsigned long long)s.relocations,
              (unsigned long long)s.static_conflicts, (unsigned long long)s.learn_dropped);
}

}  // namespace
}  // namespace tapswitch
