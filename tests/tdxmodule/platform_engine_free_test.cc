// The TD platform (tdx/) on its own: this program links tdsim_tdx and nothing of an
// engine, and drives the module with register sets the way every backend does.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tdsim/abi/tdx.h"
#include "tdx/tdx_module.h"
#include "tdx/vmm.h"

namespace tdsim::tdx {
namespace {

constexpr uint64_t kSharedBit = 1ull << 47;

TdImage tiny_image() {
  TdImage im;
  im.gpaw = 48;
  im.shared_bit = kSharedBit;
  im.nr_vcpus = 1;
  im.regions.push_back(make_region("ram", RegionKind::kRam, 0, 0x10000));
  im.regions.push_back(make_region("ucall-pool", RegionKind::kUcallPool, 0x10000, 0x1000, {}, false, true));
  im.ucall_pool_gpa = 0x10000;
  im.ucall_mmio_gpa = 0x8000000;
  return im;
}

ucall::TdcallRegs vmcall(uint64_t subfn, uint64_t r12 = 0, uint64_t r13 = 0) {
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpVmcall;
  r.rcx = abi::kVmcallExposeR10toR15;
  r.r10 = abi::kVmcallStandard;
  r.r11 = subfn;
  r.r12 = r12;
  r.r13 = r13;
  return r;
}

TEST(TdPlatform, MapGpaBecomesAUserspaceExitWithoutAnyEngine) {
  const TdImage im = tiny_image();
  GuestMemory mem(im);
  TdxModule platform(im, mem);
  platform.build_td();
  const TdcallResult r = platform.tdcall(0, 0x1000, vmcall(abi::kVmcallMapGpa, kSharedBit | 0x200000, 0x200000));
  EXPECT_EQ(r.regs.rax, abi::kTdxSuccess);
  EXPECT_EQ(r.regs.r10, abi::kVmcallSuccess);
  ASSERT_TRUE(r.event.has_value());
  const auto* x = std::get_if<VmcallExitEvent>(&*r.event);
  ASSERT_NE(x, nullptr) << describe(*r.event);
  EXPECT_EQ(x->gpa, kSharedBit | 0x200000);
  EXPECT_FALSE(r.stop);
}

TEST(TdPlatform, UnknownSubfunctionIsUnsupported) {
  const TdImage im = tiny_image();
  GuestMemory mem(im);
  TdxModule platform(im, mem);
  platform.build_td();
  const TdcallResult r = platform.tdcall(0, 0x1000, vmcall(0x7777));
  EXPECT_EQ(r.regs.r10, abi::kVmcallSubfnUnsupported);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_TRUE(std::holds_alternative<TdcallRejectedEvent>(*r.event));
}

// Every sub-function has exactly one handler and a name; the table is what the trace
// and reports print.
TEST(TdPlatform, SubfunctionTableHasOneNamedHandlerEach) {
  std::set<uint64_t> ids;
  for (const TdxModule::Subfn& s : TdxModule::subfns()) {
    EXPECT_TRUE(ids.insert(s.id).second) << "duplicate handler for " << s.id;
    EXPECT_NE(std::string(s.name), "") << s.id;
    EXPECT_NE(s.handle, nullptr) << s.name;
  }
  for (uint64_t id : {abi::kVmcallCpuid, abi::kVmcallHlt, abi::kVmcallIo, abi::kVmcallRdmsr, abi::kVmcallWrmsr,
                      abi::kVmcallRequestMmio, abi::kVmcallGetTdVmCallInfo, abi::kVmcallMapGpa,
                      abi::kVmcallGetQuote, abi::kVmcallReportFatalError, abi::kVmcallSetupEventNotifyInterrupt})
    EXPECT_NE(TdxModule::find_subfn(id), nullptr) << "no handler for sub-function " << id;
  EXPECT_STREQ(TdxModule::subfn_name(abi::kVmcallMapGpa), "MapGPA");
  EXPECT_STREQ(TdxModule::subfn_name(0x7777), "unknown sub-function");
}

// The VMM layer on its own: a userspace exit as KVM presents it in, the completion and the
// event out — what the kvm-tdx backend feeds it, with no engine and no kvm_run.
TEST(TdPlatform, VmmAnswersUserspaceExitsWithoutAnyEngine) {
  const TdImage im = tiny_image();
  GuestMemory mem(im);
  TdxConfig cfg;
  cfg.hooks.io_read = [](uint32_t, uint16_t port, uint32_t) -> std::optional<uint64_t> { return port; };
  const Vmm vmm(im, mem, cfg);

  const VmmCompletion in = vmm.handle(UserspaceExit{0, 0x1000, PortIoExit{0x1234, 2, false, 2, {}}});
  EXPECT_EQ(in.io_data, (std::vector<uint8_t>{0x34, 0x12, 0x34, 0x12}));
  EXPECT_FALSE(in.event.has_value());
  EXPECT_FALSE(in.stop);

  // KVM strips the shared bit from GetQuote's GPA; the event names it as the guest did.
  const VmmCompletion q = vmm.handle(UserspaceExit{0, 0x1000, GetQuoteExit{0x10000, 0x1000}});
  EXPECT_EQ(q.ret, abi::kVmcallSuccess);
  ASSERT_TRUE(q.event.has_value());
  EXPECT_EQ(std::get<VmcallExitEvent>(*q.event).gpa, kSharedBit | 0x10000);

  // An exit KVM never makes is a fault that stops the vCPU, not an answer.
  const VmmCompletion bad = vmm.handle(UserspaceExit{0, 0x1000, PortIoExit{0x60, 8, false, 1, {}}});
  EXPECT_TRUE(bad.stop);
  ASSERT_TRUE(bad.event.has_value());
  EXPECT_NE(std::get<FaultEvent>(*bad.event).detail.find("malformed KVM exit"), std::string::npos);
  EXPECT_TRUE(vmm.handle(UserspaceExit{0, 0x1000, PortIoExit{0x60, 4, false, 1025, {}}}).stop);  // > a page
  const VmmCompletion short_out = vmm.handle(UserspaceExit{0, 0x1000, PortIoExit{0x60, 4, true, 2, {1, 2, 3}}});
  EXPECT_TRUE(short_out.stop);
}

}  // namespace
}  // namespace tdsim::tdx
