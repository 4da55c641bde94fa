#pragma once
// What makes a VM restored from a template its own: every VM restored from
// one snapshot wakes with the template's wall clock and the template's
// kernel random state, so two pods would draw the same "random" numbers
// (TLS keys, UUIDs, ASLR of processes they start) until the kernel reseeds
// on its own. The host hands each VM the time and fresh bytes at
// CreateSandbox; a cold-booted VM takes them too, at no cost.

#include <cstdint>
#include <span>

namespace vmrt::agent {

// At most this many bytes are taken: 4096 bits, the kernel's whole pool.
constexpr size_t kMaxEntropyBytes = 512;

// Sets CLOCK_REALTIME to `realtime_ns` since the epoch. Throws vmrt::Error.
void set_realtime_clock(int64_t realtime_ns);

// Mixes `bytes` into the kernel's input pool crediting all of them
// (RNDADDENTROPY), then makes the CRNG reseed from it now (RNDRESEEDCRNG)
// rather than at its next scheduled reseed, so the next getrandom() in any
// process already differs from every sibling VM's. Throws vmrt::Error.
void reseed_entropy(std::span<const uint8_t> bytes);

}  // namespace vmrt::agent
