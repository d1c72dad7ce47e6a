// Pending memory and the firmware's TDX milestones in the TDX module stand-in
// (tdx/page_acceptance.h, tdx/tdx_progress.h), driven with register sets on a small TDVF-like
// image: RAM the VMM left unaccepted, one page it added.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "core/guest_memory.h"
#include "tdsim/abi/tdx.h"
#include "tdx/tdx_module.h"

namespace tdsim::tdx {
namespace {

constexpr uint64_t kRamEnd = 0x400000, kAdded = 0x400000;

TdImage firmware_like(bool tdvf) {
  TdImage im;
  im.gpaw = 48;
  im.shared_bit = 1ull << 47;
  im.nr_vcpus = 1;
  im.tdvf = tdvf;
  Region ram = make_region("ram", RegionKind::kRam, 0, kRamEnd);
  ram.unaccepted = true;
  im.regions.push_back(std::move(ram));
  im.regions.push_back(make_region("TempMem", RegionKind::kFirmware, kAdded, 0x1000));
  im.add_order.push_back(kAdded);
  return im;
}

TdcallResult accept(TdxModule& m, uint64_t rcx) {
  ucall::TdcallRegs r;
  r.rax = abi::kTdgMemPageAccept;
  r.rcx = rcx;
  return m.tdcall(0, 0xfffd0000, r);
}

// A TD built from firmware_like(tdvf), as TDH.MR.FINALIZE leaves it.
struct BuiltTd {
  explicit BuiltTd(bool tdvf) : im(firmware_like(tdvf)), mem(im), module(im, mem) { module.build_td(); }
  const TdImage im;
  GuestMemory mem;
  TdxModule module;
};

// The same TD with ATTRIBUTES.SEPT_VE_DISABLE.
struct TdConfigTd {
  explicit TdConfigTd(bool tdvf) : im(firmware_like(tdvf)), mem(im), module(im, mem, sept_ve_disable()) {
    module.build_td();
  }
  static TdxConfig sept_ve_disable() {
    TdxConfig c;
    c.attributes = kAttrSeptVeDisable;
    return c;
  }
  const TdImage im;
  GuestMemory mem;
  TdxModule module;
};

TdcallResult vp_info(TdxModule& m) {
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  return m.tdcall(0, 0x10, r);
}

std::string milestone(const std::optional<Event>& e) {
  return e && std::holds_alternative<MilestoneEvent>(*e) ? std::get<MilestoneEvent>(*e).what : "";
}

TEST(PageAcceptance, PendingPagesAreAcceptedOnceAndZeroed) {
  BuiltTd td(true);
  GuestMemory& mem = td.mem;
  TdxModule& m = td.module;
  const std::vector<uint8_t> junk(4096, 0xa5);
  mem.write(0x1000, junk.data(), junk.size());

  TdcallResult r = accept(m, 0x1000);
  EXPECT_EQ(r.regs.rax, abi::kTdxSuccess);
  EXPECT_NE(milestone(r.event).find("first page accepted"), std::string::npos) << milestone(r.event);
  std::vector<uint8_t> page(4096, 1);
  mem.read(0x1000, page.data(), page.size());
  EXPECT_TRUE(std::all_of(page.begin(), page.end(), [](uint8_t b) { return b == 0; })) << "accepting zeroes";

  r = accept(m, 0x1000);
  EXPECT_EQ(r.regs.rax, abi::kTdxPageAlreadyAccepted);
  EXPECT_FALSE(r.event) << "a warning, not a refusal";
  r = accept(m, 0x2000);
  EXPECT_EQ(r.regs.rax, abi::kTdxSuccess);
  EXPECT_FALSE(r.event) << "only the first accept is a milestone";
  EXPECT_EQ(accept(m, kAdded).regs.rax, abi::kTdxPageAlreadyAccepted) << "added at launch";
}

TEST(PageAcceptance, LargePagesMismatchAndOnlyTheFirstRefusalIsAnEvent) {
  BuiltTd td(true);
  TdxModule& m = td.module;
  TdcallResult r = accept(m, 0x0 | 1);
  EXPECT_EQ(r.regs.rax, abi::kTdxPageSizeMismatch);
  ASSERT_TRUE(r.event);
  EXPECT_TRUE(std::holds_alternative<TdcallRejectedEvent>(*r.event));
  r = accept(m, 0x200000 | 1);
  EXPECT_EQ(r.regs.rax, abi::kTdxPageSizeMismatch);
  EXPECT_FALSE(r.event) << "the fallback flood stays out of the output";
  EXPECT_EQ(accept(m, 0x200000).regs.rax, abi::kTdxSuccess) << "the 4 KiB fallback succeeds";
  const std::vector<Event> end = m.end_of_run();
  ASSERT_FALSE(end.empty());
  EXPECT_NE(std::get<MilestoneEvent>(end.back()).what.find("1 pages accepted"), std::string::npos);
  EXPECT_NE(std::get<MilestoneEvent>(end.back()).what.find("2 accepts of 2 MiB/1 GiB pages refused"),
            std::string::npos)
      << std::get<MilestoneEvent>(end.back()).what;
  m.reset();
  EXPECT_EQ(accept(m, 0x200000).regs.rax, abi::kTdxSuccess) << "pending again after a reset";
}

// Touching a pending page (td_ept_violation.c): a #VE with the private GPA and no EPT
// permission bits, or — with ATTRIBUTES.SEPT_VE_DISABLE — the VM's end; an accepted or
// added page is no EPT violation at all. The accepted run around a page is what a
// mechanism may open at once.
TEST(PageAcceptance, TouchingAPendingPageIsAVeOrTheVmsEnd) {
  BuiltTd td(true);
  TdxModule& m = td.module;
  EXPECT_TRUE(m.acceptance().pending(0x3000));
  const std::optional<PendingAccess> read = m.pending_access(GuestAccess::kRead, 0xffff0000003008, 0x3008);
  ASSERT_TRUE(read);
  EXPECT_FALSE(read->vm_dead);
  EXPECT_EQ(read->ve.exit_reason, abi::kExitReasonEptViolation);
  EXPECT_EQ(read->ve.qualification, abi::kEptQualRead | abi::kEptQualGlaValid | abi::kEptQualFinalTranslation);
  EXPECT_EQ(read->ve.gla, 0xffff0000003008u);
  EXPECT_EQ(read->ve.gpa, 0x3008u) << "the private GPA, no shared bit";
  EXPECT_EQ(read->ve.insn_length, 0u);
  EXPECT_EQ(m.pending_access(GuestAccess::kFetch, 0x3000, 0x3000)->ve.qualification & 7, abi::kEptQualFetch);
  EXPECT_FALSE(m.pending_access(GuestAccess::kWrite, kAdded, kAdded)) << "added at launch";

  EXPECT_EQ(m.acceptance().accepted_run(0x3000), std::make_pair(uint64_t{0}, uint64_t{0})) << "pending";
  for (uint64_t gpa : {0x2000ull, 0x3000ull, 0x5000ull}) ASSERT_EQ(accept(m, gpa).regs.rax, abi::kTdxSuccess);
  EXPECT_FALSE(m.pending_access(GuestAccess::kWrite, 0x3010, 0x3010)) << "accepted";
  EXPECT_EQ(m.acceptance().accepted_run(0x3000), std::make_pair(uint64_t{0x2000}, uint64_t{0x4000}));
  EXPECT_EQ(m.acceptance().accepted_run(0x5000), std::make_pair(uint64_t{0x5000}, uint64_t{0x6000}));
  m.reset();
  EXPECT_TRUE(m.acceptance().pending(0x3000)) << "pending again after a reset";

  TdConfigTd with_disable(true);
  const std::optional<PendingAccess> dead =
      with_disable.module.pending_access(GuestAccess::kWrite, 0x3000, 0x3000);
  ASSERT_TRUE(dead);
  EXPECT_TRUE(dead->vm_dead);
  EXPECT_NE(dead->why.find("KVM marks the VM dead"), std::string::npos) << dead->why;
}

TEST(TdxProgress, VpInfoIsAMilestoneOnceAndRtmrExtendsAreReportedAtTheEnd) {
  BuiltTd td(true);
  GuestMemory& mem = td.mem;
  TdxModule& m = td.module;
  EXPECT_NE(milestone(vp_info(m).event).find("TDG.VP.INFO: GPAW 48"), std::string::npos);
  EXPECT_FALSE(vp_info(m).event);
  ASSERT_EQ(accept(m, 0x3000).regs.rax, abi::kTdxSuccess);
  std::vector<uint8_t> data(48, 0x11);
  mem.write(0x3000, data.data(), data.size());
  ucall::TdcallRegs ext;
  ext.rax = abi::kTdgMrRtmrExtend;
  ext.rcx = 0x3000;
  ext.rdx = 2;
  ASSERT_EQ(m.tdcall(0, 0x20, ext).regs.rax, abi::kTdxSuccess);
  const std::vector<Event> end = m.end_of_run();
  ASSERT_GE(end.size(), 2u);
  EXPECT_EQ(std::get<MilestoneEvent>(end[0]).what, "RTMR[2] extend #1 with " + std::string(96, '1'));
  EXPECT_EQ(std::get<MilestoneEvent>(end[0]).rip, 0x20u);
  EXPECT_NE(std::get<MilestoneEvent>(end[1]).what.find("RTMR[2] = "), std::string::npos);
  EXPECT_NE(std::get<MilestoneEvent>(end[1]).what.find("after 1 extend"), std::string::npos);
}

TEST(TdxProgress, TdsimsOwnImagesHaveNoMilestones) {
  BuiltTd td(false);
  TdxModule& m = td.module;
  EXPECT_FALSE(vp_info(m).event);
  EXPECT_EQ(accept(m, 0x1000).regs.rax, abi::kTdxSuccess);
  EXPECT_TRUE(m.end_of_run().empty());
}

}  // namespace
}  // namespace tdsim::tdx
