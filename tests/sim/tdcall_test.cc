// TDCALL trapping and the TDX-module stand-in, end to end on hand-made images.
#include <gtest/gtest.h>

#include "sim_test_util.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::simtest {
namespace {

using abi::kUcallDone;
using abi::kUcallPrintf;

TEST(UnicornTdcall, MmioWriteBecomesDecodedUcalls) {
  TdImage im = make_boot_image(hello64());
  set_slot(im, 0, kUcallPrintf, "hello from the TD");
  set_slot(im, 1, kUcallDone);
  const TdImage before = im;
  auto ev = run_image(im);
  ASSERT_EQ(ev.size(), 2u) << describe(ev.at(0));
  const auto& p = as<UcallEvent>(ev[0]);
  EXPECT_EQ(p.cmd, kUcallPrintf);
  EXPECT_EQ(p.text, "hello from the TD");
  EXPECT_EQ(p.slot_gpa, slot_gpa(0));
  EXPECT_EQ(as<UcallEvent>(ev[1]).cmd, kUcallDone);
  // The backend folds the S-bit out of its own copy; the image keeps it.
  EXPECT_EQ(im.regions[0].bytes, before.regions[0].bytes);
}

TEST(UnicornTdcall, HundredsOfTdcallsAtOneAddressWithPagingOn) {
  TdImage im = make_boot_image(tdcall_loop64());
  set_slot(im, 0, kUcallDone);
  auto ev = run_image(im);
  ASSERT_EQ(ev.size(), 151u) << describe(ev.back());
  for (uint64_t i = 0; i < 150; ++i) {
    const auto& m = as<MmioEvent>(ev[i]);
    EXPECT_EQ(m.gpa, kOtherMmio);
    EXPECT_EQ(m.len, 4u);
    EXPECT_TRUE(m.is_write);
    EXPECT_EQ(m.data, i);
  }
  EXPECT_EQ(as<UcallEvent>(ev[150]).cmd, kUcallDone);
}

TEST(UnicornTdcall, ForbiddenRcxBitIsRejectedWithoutExitAndGuestContinues) {
  TdImage im = make_boot_image(rcx_forbidden64());
  set_slot(im, 0, kUcallDone);
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 2u);
  const auto& r = as<TdcallRejectedEvent>(ev[0]);
  EXPECT_EQ(r.status, abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx);
  EXPECT_EQ(r.leaf, 0u);
  EXPECT_EQ(as<UcallEvent>(ev[1]).cmd, kUcallDone);
  const auto out = out_cells(s);
  EXPECT_EQ(read_u64(out, 0), abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx) << "RAX";
  EXPECT_EQ(read_u64(out, 8), 0x1234u) << "R10 untouched";
}

TEST(UnicornTdcall, PrivateGpaIsInvalidOperandWithoutExit) {
  TdImage im = make_boot_image(private_gpa64());
  set_slot(im, 0, kUcallDone);
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 2u);
  const auto& r = as<TdcallRejectedEvent>(ev[0]);
  EXPECT_EQ(r.status, abi::kVmcallInvalidOperand);
  EXPECT_EQ(r.subfn, abi::kVmcallRequestMmio);
  EXPECT_NE(r.reason.find("0x8000000"), std::string::npos) << r.reason;
  EXPECT_EQ(as<UcallEvent>(ev[1]).cmd, kUcallDone);
  const auto out = out_cells(s);
  EXPECT_EQ(read_u64(out, 0), 0u) << "RAX: TDCALL itself succeeded";
  EXPECT_EQ(read_u64(out, 8), abi::kVmcallInvalidOperand) << "R10";
}

TEST(UnicornTdcall, OtherLeavesSubfunctionsAndHypercalls) {
  TdImage im = make_boot_image(other_calls64());
  set_slot(im, 0, kUcallDone);
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  // TDG.VP.INFO (leaf 1) is emulated since issue 4: it succeeds without an event.
  ASSERT_EQ(ev.size(), 3u) << describe(ev.back());
  EXPECT_EQ(as<TdcallRejectedEvent>(ev[0]).subfn, 99u);
  EXPECT_EQ(as<TdcallRejectedEvent>(ev[1]).status, tdx::kKvmEnosys);
  EXPECT_EQ(as<UcallEvent>(ev[2]).cmd, kUcallDone);
  const auto out = out_cells(s);
  EXPECT_EQ(read_u64(out, 0x00), abi::kTdxSuccess) << "leaf 1: TDG.VP.INFO";
  EXPECT_EQ(read_u64(out, 0x08), 0u) << "sub-function 99: TDCALL succeeded";
  EXPECT_EQ(read_u64(out, 0x10), abi::kVmcallSubfnUnsupported);
  EXPECT_EQ(read_u64(out, 0x18), tdx::kKvmEnosys) << "KVM hypercall 5";
  EXPECT_EQ(read_u64(out, 0x20), 0u) << "KVM_HC_VAPIC_POLL_IRQ";
}

TEST(UnicornTdcall, MmioReadReturnsZeroAndReportsTheAccess) {
  TdImage im = make_boot_image(mmio_read64());
  set_slot(im, 0, kUcallDone);
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 2u);
  const auto& m = as<MmioEvent>(ev[0]);
  EXPECT_FALSE(m.is_write);
  EXPECT_EQ(m.gpa, kOtherMmio);
  EXPECT_EQ(m.len, 4u);
  const auto out = out_cells(s);
  EXPECT_EQ(read_u64(out, 0), 0u) << "R11 = read value";
  EXPECT_EQ(read_u64(out, 8), 0u) << "R10 = success";
}

TEST(UnicornTdcall, VmcallHltHaltsTheVcpu) {
  auto ev = run_image(make_boot_image(vmcall_hlt64()));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<HaltEvent>(ev[0])) << describe(ev[0]);
}

TEST(UnicornTdcall, CpuidLeaf21ReportsIntelTdx) {
  TdImage im = make_boot_image(cpuid21_64());
  set_slot(im, 0, kUcallDone);
  sim::Session s(im);
  s.run(limits(), [](const Event&) {});
  const auto out = out_cells(s);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&out[4]), 4), "Inte");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&out[12]), 4), "lTDX");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&out[8]), 4), "    ");
  EXPECT_EQ(read_u64(out, 0) & 0xffffffff, 0u);
}

TEST(UnicornTdcall, UcallSlotOutsideMemoryIsGuestMemoryError) {
  auto ev = run_image(make_boot_image(bad_slot64()));
  ASSERT_EQ(ev.size(), 1u);
  const auto& g = as<GuestMemoryErrorEvent>(ev[0]);
  EXPECT_EQ(g.gpa, 0x7000000u);
}

}  // namespace
}  // namespace tdsim::simtest
