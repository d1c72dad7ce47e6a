// Guest exception handlers (tdsim_install_exception_handler, exception_handler.c) on
// every in-process backend: each delivers exceptions through the guest IDT.
#include <gtest/gtest.h>

#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/backend.h"
#include "host/registry.h"
#include "tests/host/backend_params.h"
#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/test_assets.h"

namespace tdsim {
namespace {

class GuestExceptionHandlers : public ::testing::TestWithParam<std::string> {};

TEST_P(GuestExceptionHandlers, RunWithTheSavedRegistersAndResume) {
  const host::BackendInfo* b = host::find_backend(GetParam());
  ASSERT_NE(b, nullptr);
  if (const std::string why = b->unavailable ? b->unavailable() : ""; !why.empty()) GTEST_SKIP() << why;
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_EXCEPTION_HANDLER_ELF);
  const TdImage image = build_image(spec);
  RunLimits limits;
  limits.timeout = std::chrono::seconds(20);
  const auto events = run_collect(*b->make_backend({}), image, limits);
  SCOPED_TRACE(test::dump_events(events));
  std::vector<UcallEvent> u;
  for (const Event& e : events)
    if (const auto* p = std::get_if<UcallEvent>(&e)) u.push_back(*p);
  ASSERT_EQ(u.size(), 3u);
  // #UD: vector 6 at the UD2, RAX as the guest had it; resumed past it with RAX changed.
  EXPECT_EQ(u[0].cmd, abi::kUcallSync);
  EXPECT_EQ(u[0].args[0], 1u);
  EXPECT_EQ(u[0].args[1], 6u);
  EXPECT_EQ(u[0].args[2], 1u) << "handler saw another RIP than the UD2's";
  EXPECT_EQ(u[0].args[3], 0x600du);
  EXPECT_EQ(u[0].args[4], 0x1234u);
  // #DE three times in a row (each a #DE, none escalated to #DF), then the DIV ran with
  // the divisor the handler set; four handlers ran in all.
  EXPECT_EQ(u[1].args[0], 2u);
  EXPECT_EQ(u[1].args[1], 25u);
  EXPECT_EQ(u[1].args[2], 4u);
  EXPECT_EQ(u[1].args[3], 4u);
  // Handler removed: the default report, and the vCPU ends there.
  EXPECT_EQ(u[2].cmd, abi::kUcallUnhandled);
  EXPECT_EQ(u[2].args[abi::kUnhandledArgVector], 6u);
  EXPECT_EQ(u[2].args[abi::kUnhandledArgErrorCode], 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, GuestExceptionHandlers,
                         ::testing::ValuesIn(test::backends_with([](const host::BackendCaps& c) { return !c.real_td; })),
                         test::backend_param_name);

}  // namespace
}  // namespace tdsim
