#include "fdb/qsbr.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "base/error.h"

namespace tapswitch {

Qsbr::Qsbr(unsigned max_readers) : max_readers_(max_readers) {
  if (max_readers == 0) fail("QSBR: at least one reader is needed");
  const size_t size = rte_rcu_qsbr_get_memsize(max_readers);
  v_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("fdb_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (!v_) fail("cannot allocate the FDB's QSBR variable ({} bytes)", size);
  if (rte_rcu_qsbr_init(v_, max_readers) != 0) {
    rte_free(v_);
    fail("cannot initialise the FDB's QSBR variable: {}", rte_strerror(rte_errno));
  }
}

Qsbr::~Qsbr() { rte_free(v_); }

void Qsbr::online(unsigned reader) noexcept {
  rte_rcu_qsbr_thread_register(v_, reader);
  rte_rcu_qsbr_thread_online(v_, reader);
}

void Qsbr::offline(unsigned reader) noexcept {
  rte_rcu_qsbr_thread_offline(v_, reader);
  rte_rcu_qsbr_thread_unregister(v_, reader);
}

void Qsbr::quiescent(unsigned reader) noexcept { rte_rcu_qsbr_quiescent(v_, reader); }

uint64_t Qsbr::start() noexcept { return rte_rcu_qsbr_start(v_); }

bool Qsbr::done(uint64_t token) noexcept { return rte_rcu_qsbr_check(v_, token, false) == 1; }

void Qsbr::synchronize() noexcept { rte_rcu_qsbr_check(v_, rte_rcu_qsbr_start(v_), true); }

}  // namespace tapswitch
