#include "switch/worker.h"

#include <sys/epoll.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/error.h"

namespace tapswitch {

namespace {

constexpr uint64_t kBackoffMinNs = 50'000;
constexpr uint64_t kBackoffMaxNs = 1'000'000;
constexpr int64_t kSleepCapNs = 100'000'000;  // a safety net: even a notified sleep ends by then

uint64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

Worker::Worker(unsigned index, unsigned lcore, Fdb& fdb, PollMode poll, rte_mempool* frames,
               std::vector<unsigned> wake_cpus)
    : index_(index),
      lcore_(lcore),
      poll_(poll),
      affinity_(std::move(wake_cpus)),
      fdb_(fdb),
      counters_(std::make_unique<WorkerCounters>()),
      forwarder_(index, fdb, *counters_, frames),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      plan_(std::make_unique<WorkerPlan>()) {
  if (!epoll_) fail("epoll_create1: {}", std::strerror(errno));
  adopt_plan(plan_.get());
}

Worker::~Worker() { stop_and_wait(); }

void Worker::launch() {
  stop_.store(false, std::memory_order_release);
  int rc = rte_eal_remote_launch(&Worker::entry, this, lcore_);
  if (rc != 0) fail("cannot start worker {} on lcore {}: lcore busy", index_, lcore_);
  launched_ = true;
}

void Worker::stop_and_wait() {
  if (!launched_) return;
  stop_.store(true, std::memory_order_release);
  wake_.poke_always();
  rte_eal_wait_lcore(lcore_);
  launched_ = false;
  // A plan handed over at the last moment is adopted here, on the control thread.
  if (const WorkerPlan* n = next_.exchange(nullptr, std::memory_order_acq_rel)) {
    adopt_plan(n);
    adopted_.store(n->generation, std::memory_order_release);
  }
}

std::unique_ptr<WorkerPlan> Worker::publish(std::unique_ptr<WorkerPlan> plan) {
  plan->generation = ++generation_;
  const uint64_t gen = plan->generation;
  if (!launched_) {
    adopt_plan(plan.get());
    adopted_.store(gen, std::memory_order_release);
  } else {
    next_.store(plan.get(), std::memory_order_release);
    wake_.poke_always();
    while (adopted_.load(std::memory_order_acquire) < gen) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  std::swap(plan_, plan);
  return plan;
}

// Runs on the worker (or on the control thread while the worker is stopped).
void Worker::adopt_plan(const WorkerPlan* p) noexcept {
  forwarder_.set_ports(p->tx);  // sends what was batched for the old plan first
  // Rx queues that leave this worker: their ports let go of pending reads now, on the thread
  // that made them. (The old plan's ports are alive until the control thread sees this adopted.)
  if (cur_) {
    for (const RxAssignment& old : cur_->rx) {
      const bool kept = std::any_of(p->rx.begin(), p->rx.end(), [&](const RxAssignment& a) {
        return a.port == old.port && a.queue == old.queue;
      });
      if (!kept) old.port->rx_release(old.queue);
    }
  }
  cur_ = p;
  // Rebuild the sleep set: the wake-up eventfd and every rx queue's notification fd.
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = kWakeEvent;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.fd(), &ev);
  can_notify_ = true;
  notifiable_.assign(p->rx.size(), 0);
  parked_.assign(p->rx.size(), 0);
  parked_n_ = 0;
  asleep_only_.clear();
  for (unsigned i = 0; i < p->rx.size(); ++i) {
    int fd = p->rx[i].port->rx_notify_fd(p->rx[i].queue);
    if (fd < 0) {
      can_notify_ = false;
      continue;
    }
    if (p->rx[i].port->rx_notify_asleep_only(p->rx[i].queue)) {
      notifiable_[i] = 1;  // added by sleep()
      asleep_only_.push_back(i);
      continue;
    }
    ev.data.u32 = i;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == 0)
      notifiable_[i] = 1;
    else if (errno != EEXIST)  // (EEXIST: one fd serves two queues: only the first can park)
      can_notify_ = false;
  }
}

void Worker::unpark_ready() noexcept {
  epoll_event evs[64];
  const int n = ::epoll_wait(epoll_.get(), evs, 64, 0);
  for (int k = 0; k < n; ++k) {
    const uint32_t i = evs[k].data.u32;
    if (i < parked_.size() && parked_[i]) {
      parked_[i] = 0;
      --parked_n_;
    }
    if (unlikely(evs[k].events & (EPOLLERR | EPOLLHUP))) fd_error(i);
  }
}

void Worker::fd_error(uint32_t i) noexcept {
  // An fd in error (a tap whose interface was deleted) polls ready for ever: watched, it would
  // end every sleep at once until the link monitor takes the queue out of the plan. The queue
  // is polled instead (its reads cost nothing once it knows), and sleeps back off. An error
  // the port clears (a packet socket's ENETDOWN) leaves the fd watched: the event unparked the
  // queue.
  if (i >= notifiable_.size() || !notifiable_[i]) return;
  const RxAssignment& rx = cur_->rx[i];
  if (!rx.port->rx_notify_error(rx.queue)) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, rx.port->rx_notify_fd(rx.queue), nullptr);
  notifiable_[i] = 0;
  if (parked_[i]) {
    parked_[i] = 0;
    --parked_n_;
  }
  can_notify_ = false;
}

void Worker::unpark_all() noexcept {
  if (!parked_n_) return;
  std::fill(parked_.begin(), parked_.end(), 0);
  parked_n_ = 0;
}

int Worker::entry(void* self) {
  static_cast<Worker*>(self)->run();
  return 0;
}

void Worker::sleep(uint64_t& backoff_ns) noexcept {
  const WorkerPlan& p = *cur_;
  affinity_.before_sleep();
  wake_.set_sleeping(true);
  bool armed = can_notify_;
  for (const RxAssignment& rx : p.rx)
    if (rx.port->rx_notify_fd(rx.queue) >= 0 && !rx.port->rx_notify_arm(rx.queue)) armed = false;
  for (uint32_t i : asleep_only_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = i;
    if (notifiable_[i] && ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, p.rx[i].port->rx_notify_fd(p.rx[i].queue), &ev) != 0)
      armed = false;
  }
  // A last look after announcing the sleep: work handed over meanwhile cancels it. Frames on
  // rx queues need no look: their fds are level-triggered.
  bool pending = next_.load(std::memory_order_acquire) != nullptr || stop_.load(std::memory_order_acquire);
  for (const TxDrain& d : p.drains) pending |= !rte_ring_empty(d.ring);
  epoll_event evs[kSleepEvents];
  int rc = -1;
  uint64_t slept_ns = 0;
  if (!pending) {
    int64_t ns = armed ? kSleepCapNs : static_cast<int64_t>(backoff_ns);
    if (!armed) backoff_ns = std::min(backoff_ns * 2, kBackoffMaxNs);
    timespec ts{ns / 1'000'000'000, ns % 1'000'000'000};
    const uint64_t t0 = mono_ns();
    rc = ::epoll_pwait2(epoll_.get(), evs, kSleepEvents, &ts, nullptr);
    if (rc < 0 && errno == ENOSYS)
      rc = ::epoll_wait(epoll_.get(), evs, kSleepEvents, static_cast<int>((ns + 999'999) / 1'000'000));
    slept_ns = mono_ns() - t0;
    counters_->sleeps.add();
    counters_->sleep_ns.add(slept_ns);
  }
  for (const RxAssignment& rx : p.rx)
    if (rx.port->rx_notify_fd(rx.queue) >= 0) rx.port->rx_notify_disarm(rx.queue);
  for (uint32_t i : asleep_only_)  // (ENOENT if it was not added, or fd_error took it out)
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, p.rx[i].port->rx_notify_fd(p.rx[i].queue), nullptr);
  wake_.set_sleeping(false);
  if (rc >= 0) {
    // The fds epoll did not report have nothing to read (level-triggered): park those queues
    // rather than read each once to find out; with many idle taps that read costs more than
    // the wake-up. Parked queues come back through unpark_ready(), as in the loop.
    for (unsigned i = 0; i < p.rx.size(); ++i)
      parked_[i] = notifiable_[i] && p.rx[i].port->rx_poll_costly(p.rx[i].queue);
    bool poked = false;
    for (int k = 0; k < rc; ++k) {
      const uint32_t i = evs[k].data.u32;
      if (i == kWakeEvent) poked = true;
      else if (i < parked_.size()) parked_[i] = 0;
    }
    parked_n_ = static_cast<unsigned>(std::count(parked_.begin(), parked_.end(), 1));
    for (int k = 0; k < rc; ++k)
      if (unlikely(evs[k].events & (EPOLLERR | EPOLLHUP))) fd_error(evs[k].data.u32);
    if (poked) wake_.drain();
  } else {
    // No sleep after all (work was handed over), or epoll failed: look everywhere.
    unpark_all();
    wake_.drain();
  }
  if (affinity_.after_wake(slept_ns)) counters_->wakes_away.add();
}

void Worker::run() noexcept {
  spdlog::debug("worker {} running on lcore {} with {} rx queues, {} polling", index_, lcore_, cur_->rx.size(),
                to_string(poll_));
  WorkerCounters& wc = *counters_;
  rte_mbuf* pkts[kBurst];
  const uint64_t idle_before_sleep = rte_get_tsc_hz() / 1'000'000 * kIdleBeforeSleepUs;
  const uint64_t idle_before_sleep_away = rte_get_tsc_hz() / 1'000'000 * kIdleBeforeSleepAwayUs;
  uint64_t iterations = 0, bursts = 0, frames = 0, drained = 0, busy = 0, idle = 0;
  uint64_t backoff_ns = kBackoffMinNs;
  bool just_woke = false;
  const uint64_t home_after = rte_get_tsc_hz() / 1'000'000 * kHomeAfterUs;
  uint64_t t_prev = rte_rdtsc(), idle_since = t_prev;
  affinity_.start();
  fdb_.reader_online(index_);
  auto publish_counters = [&] {
    wc.rx_bursts.add(bursts);
    wc.rx_frames.add(frames);
    wc.drained.add(drained);
    wc.busy_cycles.add(busy);
    wc.idle_cycles.add(idle);
    bursts = frames = drained = busy = idle = 0;
  };
  for (;;) {
    unsigned work = 0;
    // (Right after a sleep the parked set is epoll's fresh answer: no need to ask again.)
    if (parked_n_ && !just_woke) unpark_ready();
    just_woke = false;
    for (unsigned i = 0; i < cur_->rx.size(); ++i) {
      if (parked_[i]) continue;
      const RxAssignment& rx = cur_->rx[i];
      uint16_t n = rx.port->rx_burst(rx.queue, pkts, kBurst);
      // A short burst from a queue whose empty reads cost a system call ended on one: wait for
      // its fd to say there is more instead of reading it empty again.
      if (n < kBurst && notifiable_[i] && rx.port->rx_poll_costly(rx.queue)) {
        parked_[i] = 1;
        ++parked_n_;
      }
      if (n == 0) continue;
      ++bursts;
      frames += n;
      work += n;
      if (capture_) {
        if (CaptureSession* cs = capture_->rx(rx.id)) [[unlikely]]
          cs->offer(pkts, n, CaptureDir::rx);
      }
      forwarder_.process(rx.id, pkts, n);
    }
    forwarder_.flush();
    for (const TxDrain& d : cur_->drains) {
      unsigned k = forwarder_.drain(d);
      drained += k;
      work += k;
    }
    const uint64_t t = rte_rdtsc();
    if (work) {
      busy += t - t_prev;
      idle_since = t;
      backoff_ns = kBackoffMinNs;
    } else {
      idle += t - t_prev;
    }
    t_prev = t;

    const bool drowsy = !work && poll_ == PollMode::adaptive &&
                        t - idle_since > (affinity_.foreign() ? idle_before_sleep_away : idle_before_sleep);
    if (++iterations % kHousekeepEvery == 0 || drowsy) {
      wc.iterations.add(iterations);
      iterations = 0;
      publish_counters();
      fdb_.quiescent(index_);
      if (const WorkerPlan* n = next_.exchange(nullptr, std::memory_order_acq_rel)) {
        adopt_plan(n);
        adopted_.store(n->generation, std::memory_order_release);
        continue;
      }
      if (stop_.load(std::memory_order_acquire)) break;
      if (drowsy) {
        fdb_.reader_offline(index_);
        sleep(backoff_ns);
        just_woke = true;
        fdb_.reader_online(index_);
        t_prev = rte_rdtsc();
      } else {
        affinity_.settle(t, home_after);
      }
    }
  }
  forwarder_.flush();
  // Empty the rings one last time; other workers have stopped sending by now or will drop.
  for (const TxDrain& d : cur_->drains)
    while (forwarder_.drain(d)) {}
  // A stopped worker holds nothing of its ports (pending reads), so they close at once.
  for (const RxAssignment& rx : cur_->rx) rx.port->rx_release(rx.queue);
  affinity_.stop();
  wc.iterations.add(iterations);
  publish_counters();
  fdb_.reader_offline(index_);
  spdlog::debug("worker {} stopped", index_);
}

}  // namespace tapswitch
