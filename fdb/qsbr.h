// Qsbr: an rte_rcu_qsbr variable owned for its whole life (quiescent-state-based reclamation).
//
// Readers are numbered 0..max_readers-1. A reader goes online before it reads the protected
// structure, reports quiescence whenever it holds no reference into it (the worker loop does
// so every housekeeping period), and goes offline before it blocks or exits. A grace period
// has passed once every reader that was online at its start has reported quiescence or gone
// offline; offline readers never delay it.
//
// Threads: online/offline/quiescent by reader i only; start/done/synchronize by the writer.
#pragma once

#include <cstdint>

struct rte_rcu_qsbr;

namespace tapswitch {

class Qsbr {
 public:
  explicit Qsbr(unsigned max_readers);
  ~Qsbr();
  Qsbr(const Qsbr&) = delete;
  Qsbr& operator=(const Qsbr&) = delete;

  void online(unsigned reader) noexcept;   // registers the reader and marks it online
  void offline(unsigned reader) noexcept;  // marks it offline and unregisters it
  void quiescent(unsigned reader) noexcept;

  uint64_t start() noexcept;          // begins a grace period; returns its token
  bool done(uint64_t token) noexcept; // has it ended? (never blocks)
  void synchronize() noexcept;        // begins one and waits for its end

  unsigned max_readers() const noexcept { return max_readers_; }

 private:
  rte_rcu_qsbr* v_ = nullptr;
  unsigned max_readers_;
};

}  // namespace tapswitch
