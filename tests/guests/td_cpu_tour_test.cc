// The TD-CPU work's "done when", as one guest (td_cpu_tour.cc): asserting the TD CPUID,
// reading the x2APIC and POWER_CTL MSRs and doing port I/O and MMIO through a #VE
// handler passes on every backend that runs here, with identical events and the same
// port and MMIO traffic at the host's hooks.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/event_diff.h"
#include "host/registry.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/test_assets.h"
#include "tests/host/backend_params.h"

namespace tdsim {
namespace {

struct TourRun {
  std::string backend;
  std::vector<Event> events;
  std::vector<test::PortWrite> port_writes;
};

TEST(TdCpuTour, AssertsTheTdCpuidAndUsesMsrsPortIoAndMmioThroughVeWithTheSameEventsEverywhere) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_TD_CPU_TOUR_ELF);
  spec.shared_mmio_pages = 1;
  const TdImage image = build_image(spec);
  const uint64_t window = image.shared_mmio_gpa;
  std::string skipped;
  std::vector<TourRun> runs;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    TourRun r{b->name, {}, {}};
    std::mutex m;
    host::BackendSetup setup;
    setup.config.hooks.io_write = test::record_port_writes(r.port_writes, m);
    setup.config.hooks.io_read = [](uint32_t, uint16_t port, uint32_t size) -> std::optional<uint64_t> {
      if (port == 0x71 && size == 1) return 0xa5;
      return std::nullopt;
    };
    auto backend = b->make_backend(setup);
    backend->set_mmio_read([window](uint32_t, uint64_t gpa, uint32_t len) -> std::optional<uint64_t> {
      if (gpa == window + 0x40 && len == 4) return 0x81828384;
      return std::nullopt;
    });
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    r.events = run_collect(*backend, image, limits);
    runs.push_back(std::move(r));
  }
  ASSERT_FALSE(runs.empty()) << skipped;
  for (const TourRun& r : runs) {
    SCOPED_TRACE(r.backend + "\n" + test::dump_events(r.events));
    ASSERT_EQ(r.events.size(), 4u);
    const auto* write = std::get_if<MmioEvent>(&r.events[0]);
    ASSERT_NE(write, nullptr);
    EXPECT_TRUE(write->is_write);
    EXPECT_EQ(write->gpa, window);
    EXPECT_EQ(write->len, 4u);
    EXPECT_EQ(write->data, 0x12345678u);
    const auto* read = std::get_if<MmioEvent>(&r.events[1]);
    ASSERT_NE(read, nullptr);
    EXPECT_FALSE(read->is_write);
    EXPECT_EQ(read->gpa, window + 0x40);
    const auto* sync = std::get_if<UcallEvent>(&r.events[2]);
    ASSERT_NE(sync, nullptr);
    ASSERT_EQ(sync->cmd, abi::kUcallSync) << "the guest's TD CPUID assertions failed";
    EXPECT_EQ(sync->args[1], 8u) << "two #VEs each: POWER_CTL, the ICR, port I/O, MMIO";
    EXPECT_EQ(sync->args[2], 2u) << "POWER_CTL as written";
    EXPECT_EQ(sync->args[3], (1ull << 32) | 0xf0) << "ICR as written";
    EXPECT_EQ(sync->args[4], 0xa5u) << "inb $0x71: the hook's answer";
    EXPECT_EQ(sync->args[5], 0x81828384u) << "the device's answer to the MMIO read";
    const auto* done = std::get_if<UcallEvent>(&r.events[3]);
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->cmd, abi::kUcallDone);
    const std::vector<test::PortWrite> expected{{0x80, 1, 0x5a}};
    EXPECT_EQ(r.port_writes, expected);
  }
  for (size_t i = 1; i < runs.size(); ++i) {
    const auto d = first_divergence(runs[0].events, runs[i].events, image.nr_vcpus);
    EXPECT_FALSE(d.has_value()) << runs[0].backend << " vs " << runs[i].backend;
  }
  if (runs.size() == 1) GTEST_SKIP() << "only " << runs[0].backend << " could run: " << skipped;
}

}  // namespace
}  // namespace tdsim
