// The FDB key and entry: 8 bytes each.
//
// FdbKey packs (VLAN, MAC) into one 64-bit word so that hashing and comparing a key is one word:
//
//   bits  0..47  MAC address, its 6 bytes in wire order, as a little-endian load sees them
//   bits 48..59  VLAN id (0 = untagged)
//   bits 60..63  zero
//
// FdbEntry is the result, also one word, so the table stores it inline in the hash's data slot
// and a reader gets key and result in one lookup, never torn:
//
//   port (16) | flags (8) | reserved (8) | last_seen (32, seconds on the FDB clock)
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tapswitch {

struct FdbKey {
  uint64_t raw = 0;

  static constexpr uint64_t kMacMask = 0x0000'FFFF'FFFF'FFFFull;

  static FdbKey make(uint16_t vlan, const uint8_t* mac) noexcept {
    uint64_t m = 0;
    std::memcpy(&m, mac, 6);
    return FdbKey{m | (static_cast<uint64_t>(vlan & 0x0FFF) << 48)};
  }
  // Fast path: `p` must have 8 readable bytes (true for both MACs of a frame of >= 14 bytes).
  static FdbKey from_wire8(uint16_t vlan, const uint8_t* p) noexcept {
    uint64_t m;
    std::memcpy(&m, p, 8);
    return FdbKey{(m & kMacMask) | (static_cast<uint64_t>(vlan & 0x0FFF) << 48)};
  }

  uint16_t vlan() const noexcept { return static_cast<uint16_t>(raw >> 48) & 0x0FFF; }
  void mac(uint8_t out[6]) const noexcept {
    uint64_t m = raw & kMacMask;
    std::memcpy(out, &m, 6);
  }
  bool operator==(const FdbKey&) const = default;
};
static_assert(sizeof(FdbKey) == 8, "the FDB key must stay one 64-bit word");
static_assert(std::endian::native == std::endian::little, "FdbKey packing assumes little endian");

constexpr uint16_t kNoPort = 0xFFFF;

enum FdbFlags : uint8_t {
  kFdbDynamic = 0,
  kFdbStatic = 1u << 0,  // configured: never ages, never moves
};

struct FdbEntry {
  uint16_t port = kNoPort;
  uint8_t flags = 0;
  uint8_t reserved = 0;
  uint32_t last_seen = 0;

  uint64_t pack() const noexcept { return std::bit_cast<uint64_t>(*this); }
  static FdbEntry unpack(uint64_t v) noexcept { return std::bit_cast<FdbEntry>(v); }
};
static_assert(sizeof(FdbEntry) == 8, "the FDB entry must stay one 64-bit word");
static_assert(sizeof(void*) == sizeof(FdbEntry), "the entry lives in the hash's data pointer");

}  // namespace tapswitch
