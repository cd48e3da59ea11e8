// TxFailures: frames a port was given but the kernel refused, by reason. One writer per
// instance (the thread that transmits on the queue), read by the control thread (base/counter.h).
#pragma once

#include <cerrno>
#include <cstdint>

#include "base/counter.h"

namespace tapswitch {

struct TxFailures {
  Counter errors;
  Counter link_down;   // refused because the interface is down (EIO from a tap, ENETDOWN from a
                       // packet socket): not errors
  Counter last_error;  // errno of the latest error, for `show ports`

  // Counts `n` frames refused with `err`.
  void count_failed(int err, uint64_t n = 1) noexcept {
    if (err == EIO || err == ENETDOWN) {
      link_down.add(n);
      return;
    }
    errors.add(n);
    last_error.set(static_cast<uint64_t>(err));
  }
};

}  // namespace tapswitch
