// NetTapRxKick: reading DPDK 22.11's net_tap queues without a signal per frame.
//
// net_tap reads a queue only after a signal has arrived since the queue's last short read (its
// "rx trigger"): each queue's tun fd is set O_ASYNC, so the kernel sends the process one signal
// for every frame it queues (net_tap's handler only bumps a counter). On this machine that costs
// more than the rest of the rx path: the sender pays for queuing a real-time signal per frame,
// the thread it lands on for delivering it, and the switch reads only as often as the signal
// handler gets to run (60 B frames through two net_tap ports: ~85 kpps with the signals, ~270
// without). The switch knows from epoll when a queue has frames, so it does not need them.
//
// take_over() turns O_ASYNC off on the queues' fds and keeps net_tap's own handler, which the
// port then calls (operator()) before each rx burst: the queue is read whenever asked, and an
// empty read costs a system call, as on a raw-fd tap (Port::rx_poll_costly). When the fds are not
// set up as expected (not O_ASYNC, or no plain handler installed for their signal: another
// DPDK version, say), nothing is changed and the kick is empty: net_tap works as before.
//
// Concurrency: take_over() on the control thread before any worker reads the port; the kick may
// be called from any worker (the handler only increments a counter; a lost increment from two
// workers at once costs one empty burst, and the queue's fd still polls readable).
#pragma once

#include <span>
#include <string>

namespace tapswitch {

class NetTapRxKick {
 public:
  NetTapRxKick() = default;
  // `why_not` receives the reason when the returned kick is empty.
  static NetTapRxKick take_over(std::span<const int> rx_fds, std::string& why_not);

  explicit operator bool() const noexcept { return handler_ != nullptr; }
  void operator()() const noexcept { handler_(signo_); }
  int signo() const noexcept { return signo_; }

 private:
  void (*handler_)(int) = nullptr;
  int signo_ = 0;
};

}  // namespace tapswitch
