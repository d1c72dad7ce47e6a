// The TDX module's own leaves: TDG.VP.INFO, MR.REPORT, RTMR.EXTEND, VEINFO.GET,
// PAGE.ACCEPT, unknown leaves, and that host hooks cannot change them.
#include <openssl/sha.h>

#include <cstring>

#include "bootstub/measure/mrtd.h"
#include "module_fixture.h"

namespace tdsim::tdxtest {
namespace {

TEST_F(ModuleTest, VpInfoReportsGpawVcpusIndexAndAttributes) {
  tdx::TdxConfig cfg;
  cfg.attributes = 1ull << 28;
  cfg.max_vcpus = 8;
  make(cfg);
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  r.r12 = 0x77;
  const auto res = call(r, 1);
  EXPECT_EQ(res.regs.rax, abi::kTdxSuccess);
  EXPECT_EQ(res.regs.rcx, 48u);
  EXPECT_EQ(res.regs.rdx, 1ull << 28);
  EXPECT_EQ(res.regs.r8, uint64_t{image_.nr_vcpus} | (8ull << 32));
  EXPECT_EQ(res.regs.r9, 1u);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ(res.regs.r11, 0u);
  EXPECT_EQ(res.regs.r12, 0x77u) << "not an output";
  EXPECT_FALSE(res.event);
}

TEST_F(ModuleTest, VpInfoMaxVcpusDefaultsToImageAndGpaw52) {
  opts_.gpaw = 52;
  image_ = conformance::build_suite_image(opts_);
  make();
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  const auto res = call(r);
  EXPECT_EQ(res.regs.rcx, 52u);
  EXPECT_EQ(res.regs.r8 >> 32, image_.nr_vcpus);
}

TEST_F(ModuleTest, MrReportWritesTdreportWithBuiltMrtdAndReportData) {
  const uint64_t rep = elf_gpa() + 0x2000, data = elf_gpa() + 0x1040;
  uint8_t rd[64];
  for (int i = 0; i < 64; ++i) rd[i] = static_cast<uint8_t>(i * 3);
  ASSERT_TRUE(mem_->write(data, rd, 64));
  tdx::TdxConfig cfg;
  cfg.attributes = 0x10000000;
  cfg.xfam = 0xe7;
  make(cfg);
  ASSERT_TRUE(mem_->write(data, rd, 64));
  ucall::TdcallRegs r;
  r.rax = abi::kTdgMrReport;
  r.rcx = rep;
  r.rdx = data;
  const auto res = call(r);
  ASSERT_EQ(res.regs.rax, abi::kTdxSuccess) << (res.event ? describe(*res.event) : "");
  std::vector<uint8_t> out(1024);
  ASSERT_TRUE(mem_->read(rep, out.data(), out.size()));
  EXPECT_EQ(out[0], 0x81);
  EXPECT_EQ(0, std::memcmp(&out[128], rd, 64));
  EXPECT_EQ(measure::Mrtd::from_tdreport(out), module_->mrtd());  // what build_td() accumulated
  EXPECT_EQ(measure::Mrtd::from_tdreport(out), measure::predict_mrtd(image_));
  uint64_t attr, xfam;
  std::memcpy(&attr, &out[512], 8);
  std::memcpy(&xfam, &out[520], 8);
  EXPECT_EQ(attr, 0x10000000u);
  EXPECT_EQ(xfam, 0xe7u);
  for (int i = 224; i < 256; ++i) EXPECT_EQ(out[i], tdx::kFakeMacByte) << "MAC byte " << i;
  for (int i = 720; i < 720 + 192; ++i) EXPECT_EQ(out[i], 0) << "RTMRs start zero";
}

TEST_F(ModuleTest, MrReportOperandErrors) {
  const uint64_t rep = elf_gpa() + 0x2000, data = elf_gpa() + 0x1040;
  struct Case { uint64_t rcx, rdx, r8, status; };
  const uint64_t inv = abi::kTdxOperandInvalid;
  const Case cases[] = {
      {rep + 512, data, 0, inv | 1},                                  // unaligned report
      {rep | shared(), data, 0, inv | 1},                             // shared report GPA
      {1ull << 46, data, 0, abi::kTdxOperandAddrRangeError | 1},      // no memory there
      {image_.ucall_pool_gpa, data, 0, abi::kTdxOperandAddrRangeError | 1},  // shared region
      {rep, data + 4, 0, inv | 2},                                    // unaligned REPORTDATA
      {rep, data | shared(), 0, inv | 2},
      {rep, data, 1, inv | 8},                                        // subtype
  };
  for (const Case& c : cases) {
    ucall::TdcallRegs r;
    r.rax = abi::kTdgMrReport;
    r.rcx = c.rcx;
    r.rdx = c.rdx;
    r.r8 = c.r8;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, c.status) << std::hex << c.rcx << " " << c.rdx;
    EXPECT_EQ(ev<TdcallRejectedEvent>(res).status, c.status);
    EXPECT_FALSE(res.stop);
  }
}

TEST_F(ModuleTest, RtmrExtendIsSha384OfOldValueAndData) {
  const uint64_t gpa = elf_gpa() + 0x1080;
  uint8_t data[48];
  for (int i = 0; i < 48; ++i) data[i] = static_cast<uint8_t>(0x30 + i);
  ASSERT_TRUE(mem_->write(gpa, data, 48));
  ucall::TdcallRegs r;
  r.rax = abi::kTdgMrRtmrExtend;
  r.rcx = gpa;
  r.rdx = 3;
  EXPECT_EQ(call(r).regs.rax, 0u);
  EXPECT_EQ(call(r).regs.rax, 0u);
  uint8_t buf[96] = {}, once[48], twice[48];
  std::memcpy(buf + 48, data, 48);
  SHA384(buf, 96, once);
  std::memcpy(buf, once, 48);
  SHA384(buf, 96, twice);
  EXPECT_EQ(0, std::memcmp(module_->rtmrs()[3].data(), twice, 48));
  EXPECT_EQ(module_->rtmrs()[0], tdx::Digest48{});
  module_->reset();
  EXPECT_EQ(module_->rtmrs()[3], tdx::Digest48{}) << "reset clears RTMRs";
  r.rdx = 4;
  EXPECT_EQ(call(r).regs.rax, abi::kTdxOperandInvalid | 2);
  r.rdx = 0;
  r.rcx = gpa + 16;
  EXPECT_EQ(call(r).regs.rax, abi::kTdxOperandInvalid | 1);
  r.rcx = gpa | shared();
  EXPECT_EQ(call(r).regs.rax, abi::kTdxOperandInvalid | 1);
}

TEST_F(ModuleTest, VeinfoGetHasNothingPending) {
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpVeinfoGet;
  const auto res = call(r);
  EXPECT_EQ(res.regs.rax, abi::kTdxNoVeInfo);
  EXPECT_EQ(ev<TdcallRejectedEvent>(res).leaf, abi::kTdgVpVeinfoGet);
}

TEST_F(ModuleTest, PageAcceptOfAddedPagesAndErrors) {
  const uint64_t page = elf_gpa();
  struct Case { uint64_t rcx, status; bool event; };
  const uint64_t inv = abi::kTdxOperandInvalid | 1;
  const Case cases[] = {
      {page, abi::kTdxPageAlreadyAccepted, false},   // warning: no event
      {page | 1, abi::kTdxPageSizeMismatch, true},   // 2M level on 4K-added pages (0x400000 is 2M aligned)
      {page | 3, inv, true},
      {page | 0x10, inv, true},
      {(page + 0x1000) | 1, inv, true},              // not 2M aligned
      {page | shared(), inv, true},
      {1ull << 46, abi::kTdxOperandAddrRangeError | 1, true},
  };
  for (const Case& c : cases) {
    ucall::TdcallRegs r;
    r.rax = abi::kTdgMemPageAccept;
    r.rcx = c.rcx;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, c.status) << std::hex << c.rcx;
    EXPECT_EQ(res.event.has_value(), c.event) << std::hex << c.rcx;
  }
}

TEST_F(ModuleTest, UnknownLeafIsOperandInvalidOnRax) {
  for (uint64_t leaf : {5ull, 7ull, 8ull, 0x7full, 1ull << 40}) {
    ucall::TdcallRegs r;
    r.rax = leaf;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, abi::kTdxOperandInvalid | abi::kTdxOperandIdRax) << leaf;
    EXPECT_EQ(ev<TdcallRejectedEvent>(res).leaf, leaf);
  }
}

TEST_F(ModuleTest, HostHookCannotAnswerModuleLeaves) {
  tdx::TdxConfig cfg;
  int calls = 0;
  cfg.hooks.vmcall = [&](const tdx::VmcallRequest&) {
    ++calls;
    return std::optional<tdx::VmcallReply>(tdx::VmcallReply{abi::kVmcallInvalidOperand});
  };
  make(cfg);
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  EXPECT_EQ(call(r).regs.rax, 0u);
  EXPECT_EQ(calls, 0);
}

TEST_F(ModuleTest, CpuidInstructionLeaf21IsTheModulesOwn) {
  EXPECT_EQ(module_->instruction_cpuid(0x21, 0), tdx::kTdxSignatureLeaf);
  EXPECT_FALSE(module_->instruction_cpuid(0x21, 1));
  EXPECT_FALSE(module_->instruction_cpuid(1, 0)) << "other leaves are the engine's";
}

}  // namespace
}  // namespace tdsim::tdxtest

namespace tdsim::tdxtest {
namespace {

ucall::TdcallRegs veinfo_get() {
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpVeinfoGet;
  return r;
}

// A #VE's information is read once; a second #VE before that read is a #DF and keeps
// the first one's information; another vCPU's #VE is its own.
TEST_F(ModuleTest, VeInformationIsReadOnceAndASecondUnreadVeIsADoubleFault) {
  EXPECT_EQ(call(veinfo_get()).regs.rax, abi::kTdxNoVeInfo);
  const tdx::VeInfo out80 = tdx::io_instruction_ve(false, 0x80, 1, true, 2);
  EXPECT_EQ(out80.exit_reason, abi::kExitReasonIoInstruction);
  EXPECT_EQ(out80.qualification, (0x80ull << 16) | abi::kIoQualImmediate);
  const tdx::VeInfo in_dx = tdx::io_instruction_ve(true, 0xcfc, 4, false, 1);
  EXPECT_EQ(in_dx.qualification, (0xcfcull << 16) | abi::kIoQualIn | 3);

  EXPECT_EQ(module_->raise_ve(0, out80), tdx::TdxModule::VeDelivery::kVe);
  EXPECT_EQ(module_->raise_ve(1, in_dx), tdx::TdxModule::VeDelivery::kVe);
  EXPECT_EQ(module_->raise_ve(0, in_dx), tdx::TdxModule::VeDelivery::kDoubleFault);
  const auto r = call(veinfo_get());
  EXPECT_EQ(r.regs.rax, abi::kTdxSuccess);
  EXPECT_EQ(r.regs.rcx, abi::kExitReasonIoInstruction);
  EXPECT_EQ(r.regs.rdx, out80.qualification) << "the first #VE's information survived the #DF";
  EXPECT_EQ(r.regs.r10, 2u);
  EXPECT_FALSE(r.event.has_value());
  EXPECT_EQ(call(veinfo_get()).regs.rax, abi::kTdxNoVeInfo) << "read once";
  EXPECT_EQ(call(veinfo_get(), 1).regs.rdx, in_dx.qualification);
  EXPECT_EQ(module_->raise_ve(0, in_dx), tdx::TdxModule::VeDelivery::kVe) << "room again after the read";
  module_->reset();
  EXPECT_EQ(call(veinfo_get()).regs.rax, abi::kTdxNoVeInfo) << "reset forgets pending information";
}

}  // namespace
}  // namespace tdsim::tdxtest
