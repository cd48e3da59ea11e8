// The file descriptors tapswitch inherited from its parent: the only ones a tapfd: port may
// adopt. Without this record, `tapfd:N` could name any fd the switch opened itself (another
// port's tap, an epoll set), and a refused adoption would close it.
//
// Adoption works on a duplicate: the port owns the duplicate, and the inherited fd stays
// untouched, and on offer, until the port is in place (adopted() closes it then). A port that
// is refused therefore loses nothing: the parent's fd can be adopted by a corrected command.
//
// Concurrency: the control thread only (main(), the switch's constructor and its port commands).
#pragma once

#include <string>

namespace tapswitch::inherited_fds {

// Notes every fd open now above stderr. Called first in main(), before anything opens an fd.
// Until it is called, no fd is on offer.
void record();

// Why `fd` cannot be adopted, or "" if it can: it was not inherited (it is one of the switch's
// own, or was never open), or a port adopted it already.
std::string unavailable(int fd);

// A port holding a duplicate of `fd` is in place: the inherited fd is closed, and its number
// never offered again (it may be reused for one of the switch's own).
void adopted(int fd);

}  // namespace tapswitch::inherited_fds
