// The MRTD a running guest reads from its TDREPORT (TDG.MR.REPORT) is the one
// `tdsim measure` prints for the same image: on every backend that steps, the TD's
// MRTD is what its build accumulated (tdx/td_build.h; the TDX module itself on a real
// TD), and the prediction agrees with it. A backend that cannot run here skips.
#include <gtest/gtest.h>

#include <array>

#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "host/registry.h"
#include "tests/host/backend_params.h"
#define TDSIM_RUN_COMMAND_NO_TDSIM_HELPER
#include "run_command.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/report_keys.h"
#include "tests/guests/test_assets.h"

namespace tdsim {
namespace {

class TdreportMrtd : public ::testing::TestWithParam<std::string> {};

// The TDREPORT's MRTD after the mr_report guest ran to DONE on `backend`.
measure::Mrtd mrtd_from_running_guest(const host::BackendInfo& backend, const TdImage& image) {
  VmOptions o;
  o.limits.max_insns = 50'000'000;
  o.limits.timeout = std::chrono::seconds(20);
  auto vm = backend.make_vm(image, o, {});
  const Event e = vm->vcpu(0).run();
  const auto* u = std::get_if<UcallEvent>(&e);
  EXPECT_TRUE(u && u->cmd == abi::kUcallDone) << describe(e);
  std::array<uint8_t, 1024> report{};
  sync_global_from_guest(*vm, test::reports::kTdreportSymbol, report.data(), report.size());
  return measure::Mrtd::from_tdreport(report);
}

TEST_P(TdreportMrtd, GuestTdreportMrtdEqualsTdsimMeasure) {
  const host::BackendInfo* backend = host::find_backend(GetParam());
  ASSERT_NE(backend, nullptr);
  if (std::string why = backend->unavailable(); !why.empty()) GTEST_SKIP() << GetParam() << ": " << why;
  for (const char* opts : {"", " --vcpus 3 --gpaw 52"}) {
    SCOPED_TRACE(opts);
    LayoutSpec spec;
    spec.guest_elf = test::read_asset(TDSIM_GUEST_MR_REPORT_ELF);
    spec.guest_elf_name = "mr_report";
    if (*opts) {
      spec.nr_vcpus = 3;
      spec.gpaw = 52;
    }
    const TdImage image = build_image(spec);
    const CommandResult cli = run_command(std::string(TDSIM_BIN) + " measure --guest " + TDSIM_GUEST_MR_REPORT_ELF + opts);
    ASSERT_EQ(cli.exit_code, 0) << cli.output;
    ASSERT_EQ(cli.output.size(), 97u) << cli.output;  // 96 hex digits and a newline
    EXPECT_EQ(mrtd_from_running_guest(*backend, image).hex(), cli.output.substr(0, 96));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TdreportMrtd,
                         ::testing::ValuesIn(test::backends_with([](const host::BackendCaps& c) { return c.stepping; })),
                         test::backend_param_name);

}  // namespace
}  // namespace tdsim
