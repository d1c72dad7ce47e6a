// Port I/O as a TD does it, on every backend that runs here: each IN/OUT is a #VE; the
// runtime's #VE handler reads TDG.VP.VEINFO.GET and asks the VMM through
// TDG.VP.VMCALL<Instruction.IO>, whose host hooks see the writes and answer the reads;
// without a handler the default reports UCALL_UNHANDLED(20). Unicorn and plain KVM give
// the same events and the same port traffic.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/event_diff.h"
#include "host/registry.h"
#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/test_assets.h"
#include "tests/host/backend_params.h"

namespace tdsim {
namespace {

struct PortRun {
  std::vector<Event> events;
  std::vector<test::PortWrite> writes;
};

PortRun run_on(const host::BackendInfo& b, const TdImage& image) {
  PortRun r;
  std::mutex m;
  host::BackendSetup setup;
  setup.config.hooks.io_write = test::record_port_writes(r.writes, m);
  setup.config.hooks.io_read = [](uint32_t, uint16_t port, uint32_t size) -> std::optional<uint64_t> {
    if (port == 0x71 && size == 1) return 0xa5;
    if (port == 0x1f0 && size == 2) return 0x1234;
    return std::nullopt;  // all-ones, as a PC bus
  };
  RunLimits limits;
  limits.timeout = std::chrono::seconds(20);
  r.events = run_collect(*b.make_backend(setup), image, limits);
  return r;
}

TEST(VePortIo, EveryBackendTurnsPortIoIntoVmcallsThroughTheVeHandler) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_VE_PORT_IO_ELF);
  const TdImage image = build_image(spec);
  std::vector<std::pair<std::string, PortRun>> runs;
  std::string skipped;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) runs.emplace_back(b->name, run_on(*b, image));
  ASSERT_FALSE(runs.empty()) << skipped;
  for (const auto& [name, r] : runs) {
    SCOPED_TRACE(name + "\n" + test::dump_events(r.events));
    ASSERT_EQ(r.events.size(), 2u);
    const auto* sync = std::get_if<UcallEvent>(&r.events[0]);
    ASSERT_NE(sync, nullptr);
    EXPECT_EQ(sync->cmd, abi::kUcallSync);
    EXPECT_EQ(sync->args[1], 0xa5u) << "inb $0x71: the hook's answer in AL";
    EXPECT_EQ(sync->args[2], 0xaaaabbbbcccc1234ull) << "inw: AX replaced, the rest of RAX kept";
    EXPECT_EQ(sync->args[3], 0xffffffffull) << "inl from nobody: all-ones, zero-extended into RAX";
    const auto* unhandled = std::get_if<UcallEvent>(&r.events[1]);
    ASSERT_NE(unhandled, nullptr);
    EXPECT_EQ(unhandled->cmd, abi::kUcallUnhandled);
    EXPECT_EQ(unhandled->args[abi::kUnhandledArgVector], abi::kVeVector);
    const std::vector<test::PortWrite> expected{{0x80, 1, 0x5a}, {0xcf8, 4, 0x80000010}};
    EXPECT_EQ(r.writes, expected);
  }
  for (size_t i = 1; i < runs.size(); ++i) {
    const auto d = first_divergence(runs[0].second.events, runs[i].second.events, image.nr_vcpus);
    EXPECT_FALSE(d.has_value()) << runs[0].first << " vs " << runs[i].first << "\n"
                                << test::dump_events(runs[0].second.events) << test::dump_events(runs[i].second.events);
  }
  if (runs.size() == 1) GTEST_SKIP() << "only " << runs[0].first << " could run: " << skipped;
}

}  // namespace
}  // namespace tdsim
