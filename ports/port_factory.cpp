#include "ports/port_factory.h"

#include "ports/ethdev_port.h"
#include "ports/tap_port.h"

namespace tapswitch {

std::unique_ptr<Port> open_port(const PortSpec& spec, PktPool& pool) {
  switch (spec.kind) {
    case PortKind::tap:
    case PortKind::tapfd:
    case PortKind::link: return TapPort::open(spec, pool);
    case PortKind::dpdk: return EthdevPort::open(spec, pool);
  }
  return nullptr;
}

}  // namespace tapswitch
