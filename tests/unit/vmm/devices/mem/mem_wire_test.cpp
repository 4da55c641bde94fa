// virtio-mem request parsing: chains too short for a request or its
// response are refused; a request split across descriptors is read whole;
// block ranges are aligned, non-empty and inside the usable region, with no
// arithmetic overflow on hostile addresses and counts.
#include "vmm/devices/mem/mem_wire.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace vmrt::vmm::mem {
namespace {

constexpr uint64_t kBlock = 2 << 20;
constexpr MemGeometry kGeometry{uint64_t{4} << 30, 128 << 20, kBlock};

struct Chain {
  virtio_mem_req req{};
  virtio_mem_resp resp{};
  virtio::DescriptorChain chain;
  // The request cut after `split` bytes, `readable` bytes of it offered,
  // and `writable` bytes for the response.
  Chain(uint32_t readable, uint32_t writable, uint32_t split) {
    req.type = VIRTIO_MEM_REQ_STATE;
    req.u.state.addr = kGeometry.addr;
    req.u.state.nb_blocks = 3;
    auto* p = reinterpret_cast<uint8_t*>(&req);
    split = std::min(split, readable);
    chain.readable.push_back({p, split});
    if (readable > split) chain.readable.push_back({p + split, readable - split});
    chain.readable_len = readable;
    chain.writable.push_back({reinterpret_cast<uint8_t*>(&resp), writable});
    chain.writable_len = writable;
  }
};

TEST(MemWire, ReadsARequestSplitAnywhere) {
  for (uint32_t split = 0; split <= kRequestSize; ++split) {
    Chain c(kRequestSize, kResponseSize, split);
    ParsedRequest p = read_request(c.chain);
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.req.type, VIRTIO_MEM_REQ_STATE);
    EXPECT_EQ(p.req.u.state.addr, kGeometry.addr);
    EXPECT_EQ(p.req.u.state.nb_blocks, 3);
  }
}

TEST(MemWire, RefusesChainsTooShortForRequestOrResponse) {
  EXPECT_NE(read_request(Chain(kRequestSize - 1, kResponseSize, 4).chain).error, "");
  EXPECT_NE(read_request(Chain(0, kResponseSize, 0).chain).error, "");
  EXPECT_NE(read_request(Chain(kRequestSize, kResponseSize - 1, 4).chain).error, "");
  EXPECT_NE(read_request(Chain(kRequestSize, 0, 4).chain).error, "");
}

TEST(MemWire, BlockRangesInsideTheRegion) {
  auto r = block_range(kGeometry, kGeometry.addr + 2 * kBlock, 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 2u);
  EXPECT_EQ(r->count, 3u);
  auto last = block_range(kGeometry, kGeometry.addr + 63 * kBlock, 1);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->first, 63u);
  auto all = block_range(kGeometry, kGeometry.addr, 64);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->count, 64u);
}

TEST(MemWire, RefusesBadRanges) {
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr, 0));                // no blocks
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr + 4096, 1));         // unaligned
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr - kBlock, 1));       // below
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr + 64 * kBlock, 1));  // past the end
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr + 63 * kBlock, 2));  // runs past
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr, 65));               // too many
  EXPECT_FALSE(block_range(kGeometry, UINT64_MAX - kBlock + 1, 1));       // wraps
  EXPECT_FALSE(block_range(kGeometry, kGeometry.addr + kBlock, UINT64_MAX));
  EXPECT_FALSE(block_range(kGeometry, 0, 1));
  // A smaller usable size limits the range, not the region's.
  MemGeometry shrunk = kGeometry;
  shrunk.usable_region_size = 4 * kBlock;
  EXPECT_TRUE(block_range(shrunk, shrunk.addr + 3 * kBlock, 1));
  EXPECT_FALSE(block_range(shrunk, shrunk.addr + 4 * kBlock, 1));
}

TEST(MemWire, NamesRequests) {
  EXPECT_STREQ(request_name(VIRTIO_MEM_REQ_PLUG), "PLUG");
  EXPECT_STREQ(request_name(VIRTIO_MEM_REQ_UNPLUG_ALL), "UNPLUG_ALL");
  EXPECT_STREQ(request_name(77), "unknown");
}

}  // namespace
}  // namespace vmrt::vmm::mem
