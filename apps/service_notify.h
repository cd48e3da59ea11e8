// Tells the service manager how tapswitch is doing (systemd's sd_notify protocol).
//
// Under systemd with Type=notify, NOTIFY_SOCKET is set and systemd waits for READY=1 before
// it considers the service started (so units ordered After=tapswitch.service find the ports and
// the control socket in place). Without NOTIFY_SOCKET these calls do nothing.
//
// Built with libsystemd when meson finds it (HAVE_LIBSYSTEMD); without it the calls do nothing
// and a unit must use Type=simple instead (see docs/operations.md).
#pragma once

#include <string>

namespace tapswitch {

// True if tapswitch was built with libsystemd.
bool service_notify_supported();
// READY=1, with a one-line STATUS= for `systemctl status`.
void notify_ready(const std::string& status);
// STOPPING=1, when shutdown begins.
void notify_stopping();

}  // namespace tapswitch
