#include "dpdk/log_bridge.h"

#include <rte_log.h>

#include <array>
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

namespace tapswitch {

namespace {

FILE* g_stream = nullptr;
thread_local DpdkLogCapture* t_capture = nullptr;

constexpr std::array<std::string_view, 7> kBenign = {
    "Could not add multiq qdisc",     // net_tap: kernel without sch_multiq
    "failed to create multiq qdisc",  // net_tap: idem
    "Specified qdisc kind is unknown",// net_tap: idem, netlink's own words
    "Disabling rte flow support",     // net_tap: follows from the lines above
    "Failed to send start req",       // net_tap: no multi-process with --no-shconf
    "Failed to send stop req",        // net_tap: idem, at close
    "Failed to request queues from",  // multi-process queue sync with --no-shconf
};

spdlog::level::level_enum map_level(uint32_t rte_level) {
  switch (rte_level) {
    case RTE_LOG_EMERG:
    case RTE_LOG_ALERT:
    case RTE_LOG_CRIT: return spdlog::level::critical;
    case RTE_LOG_ERR: return spdlog::level::err;
    case RTE_LOG_WARNING: return spdlog::level::warn;
    case RTE_LOG_NOTICE: return spdlog::level::info;
    case RTE_LOG_INFO: return spdlog::level::debug;
    default: return spdlog::level::trace;
  }
}

ssize_t bridge_write(void*, const char* buf, size_t size) {
  // DPDK writes one message per call on an unbuffered stream; messages may span lines.
  thread_local std::string pending;
  pending.append(buf, size);
  size_t pos;
  while ((pos = pending.find('\n')) != std::string::npos) {
    std::string line = pending.substr(0, pos);
    pending.erase(0, pos + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    auto level = map_level(static_cast<uint32_t>(rte_log_cur_msg_loglevel()));
    if (level >= spdlog::level::warn && dpdk_message_is_benign(line)) level = spdlog::level::debug;
    if (t_capture) {
      t_capture->add(level, std::move(line));
    } else {
      spdlog::log(level, "dpdk: {}", line);
    }
  }
  return static_cast<ssize_t>(size);
}

}  // namespace

bool dpdk_message_is_benign(std::string_view msg) {
  for (auto b : kBenign)
    if (msg.find(b) != std::string_view::npos) return true;
  return false;
}

DpdkLogCapture::DpdkLogCapture() : outer_(t_capture) { t_capture = this; }

DpdkLogCapture::~DpdkLogCapture() {
  t_capture = outer_;
  for (const auto& m : messages_) spdlog::debug("dpdk: {}", m.text);
}

void DpdkLogCapture::add(spdlog::level::level_enum level, std::string text) {
  messages_.push_back({level, std::move(text)});
}

std::string DpdkLogCapture::reason() const {
  for (const auto& m : messages_)
    if (m.level >= spdlog::level::warn) return m.text;
  return {};
}

void DpdkLogCapture::replay() {
  for (const auto& m : messages_) spdlog::log(m.level, "dpdk: {}", m.text);
  messages_.clear();
}

void install_dpdk_log_bridge() {
  if (g_stream) return;
  cookie_io_functions_t io{};
  io.write = bridge_write;
  g_stream = fopencookie(nullptr, "w", io);
  if (!g_stream) return;
  setvbuf(g_stream, nullptr, _IONBF, 0);
  rte_openlog_stream(g_stream);
}

void remove_dpdk_log_bridge() {
  if (!g_stream) return;
  rte_openlog_stream(nullptr);
  fclose(g_stream);
  g_stream = nullptr;
}

}  // namespace tapswitch
