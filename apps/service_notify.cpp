#include "apps/service_notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <cstring>

#include <spdlog/spdlog.h>

namespace tapswitch {

#ifdef HAVE_LIBSYSTEMD

bool service_notify_supported() { return true; }

void notify_ready(const std::string& status) {
  std::string msg = "READY=1\nSTATUS=" + status;
  int rc = sd_notify(0, msg.c_str());
  if (rc < 0) spdlog::warn("cannot tell the service manager that tapswitch is ready: {}", std::strerror(-rc));
  else if (rc > 0) spdlog::debug("told the service manager: READY=1");
}

void notify_stopping() {
  int rc = sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
  if (rc < 0) spdlog::warn("cannot tell the service manager that tapswitch is stopping: {}", std::strerror(-rc));
}

#else

bool service_notify_supported() { return false; }
void notify_ready(const std::string&) {}
void notify_stopping() {}

#endif

}  // namespace tapswitch
