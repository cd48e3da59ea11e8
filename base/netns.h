// Running a small control-plane action inside another network namespace.
//
// setns() changes the namespace of the calling thread only, so the action runs on a short-lived
// helper thread and the caller's namespace never changes. Sockets created by the action stay
// bound to that namespace after the thread ends. Not for the data path.
#pragma once

#include <functional>

namespace tapswitch {

// Runs fn() in the network namespace referred to by netns_fd. Returns false (errno set) if
// the namespace could not be entered; otherwise fn's result.
bool run_in_netns(int netns_fd, const std::function<bool()>& fn);

}  // namespace tapswitch
