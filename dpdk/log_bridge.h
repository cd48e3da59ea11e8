// Routes DPDK's own log messages into spdlog, so that one log carries everything.
//
// Levels map down by one step (DPDK ERR -> error, WARNING -> warn, NOTICE -> info, INFO -> debug,
// DEBUG -> trace). A short list of messages that DPDK reports as errors but that are harmless
// on machines without hugepages, multi-process support or sch_multiq is logged at debug, so a
// clean run shows no error lines. Each message is prefixed with "dpdk: ".
#pragma once

#include <string_view>

namespace tapswitch {

void install_dpdk_log_bridge();
void remove_dpdk_log_bridge();

// True for DPDK messages known to be harmless on this class of machine (exposed for tests).
bool dpdk_message_is_benign(std::string_view msg);

}  // namespace tapswitch
