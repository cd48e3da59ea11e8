// Routes DPDK's own log messages into spdlog, so that one log carries everything.
//
// Levels map down by one step (DPDK ERR -> error, WARNING -> warn, NOTICE -> info, INFO -> debug,
// DEBUG -> trace). A short list of messages that DPDK reports as errors but that are harmless
// on machines without hugepages, multi-process support or sch_multiq is logged at debug, so a
// clean run shows no error lines. Each message is prefixed with "dpdk: ".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

namespace tapswitch {

void install_dpdk_log_bridge();
void remove_dpdk_log_bridge();

// Holds back the DPDK messages that the constructing thread logs while it lives, so that a
// failed DPDK call becomes one error line that names the driver's reason instead of a burst of
// DPDK error lines. After success, replay() logs them as usual; whatever was not replayed goes
// to the debug log at destruction. Nests; one per scope, on the thread that calls DPDK.
class DpdkLogCapture {
 public:
  DpdkLogCapture();
  ~DpdkLogCapture();
  DpdkLogCapture(const DpdkLogCapture&) = delete;
  DpdkLogCapture& operator=(const DpdkLogCapture&) = delete;

  void add(spdlog::level::level_enum level, std::string text);
  // Why a DPDK call failed: the first message at warning level or above (drivers often say why
  // in a warning, then fail in an error), without "dpdk: "; "" if none.
  std::string reason() const;
  void replay();

 private:
  struct Message {
    spdlog::level::level_enum level;
    std::string text;
  };
  std::vector<Message> messages_;
  DpdkLogCapture* outer_;
};

// True for DPDK messages known to be harmless on this class of machine (exposed for tests).
bool dpdk_message_is_benign(std::string_view msg);

}  // namespace tapswitch
