#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "diag/fault_explainer.h"
#include "diag/lint.h"
#include "tests/layout/test_elf.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::diag {
namespace {

std::string dump(const std::vector<LintFinding>& fs) {
  std::string s;
  for (const auto& f : fs) s += format_finding(f) + "\n";
  return s;
}

LayoutSpec spec(uint32_t nr_vcpus) {
  LayoutSpec s;
  s.nr_vcpus = nr_vcpus;
  s.guest_elf = layouttest::simple_guest(true, true).build();
  return s;
}

TEST(LintLayout, BuildImageOutputLintsClean) {
  for (uint32_t n : {1u, 4u}) {
    TdImage im = build_image(spec(n));
    std::vector<LintFinding> fs = lint_image(im);
    EXPECT_TRUE(fs.empty()) << "nr_vcpus " << n << "\n" << dump(fs);
  }
}

TEST(LintLayout, MutatedCr4InABuiltImageIsCaught) {
  TdImage im = build_image(spec(1));
  for (Region& r : im.regions) {
    if (r.kind != RegionKind::kBootParams) continue;
    r.bytes.resize(r.size);
    r.bytes[9] |= 0x20;  // CR4 bit 13 (VMXE) lives in byte 1 of the cr4 field at offset 8
  }
  std::vector<LintFinding> fs = lint_image(im);
  bool found = false;
  for (const auto& f : fs) found |= f.field == "boot_params.cr4" && f.message.find("VMXE") != std::string::npos;
  EXPECT_TRUE(found) << dump(fs);
}

}  // namespace
}  // namespace tdsim::diag
