// KVM_RUN's translations in the user-space KVM against the kvm-tdx backend's readers
// (kvm/tdx_exits.h): every exit the engine reports, written into kvm_run, reads back as
// the same exit, and every completion the kvm-tdx backend writes reads back as the same
// completion. So a program sees what a real TDX KVM shows, and answers as it would.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "kvm/tdx_exits.h"
#include "kvm/tdx_uapi.h"
#include "tdsim/abi/tdx.h"
#include "ukvm/run_exit.h"

namespace {

using namespace tdsim;
namespace t = tdsim::kvm::tdx;

constexpr size_t kRunSize = 3 * 4096;

struct RunPage {
  std::vector<uint64_t> words = std::vector<uint64_t>(kRunSize / 8, 0xdeadbeefdeadbeefull);
  kvm_run& run() { return *reinterpret_cast<kvm_run*>(words.data()); }
};

tdx::UserspaceExit exit_of(tdx::ExitKind k) { return tdx::UserspaceExit{0, 0, std::move(k)}; }

// write_run_exit then the kvm-tdx reader: the same exit comes back.
tdx::UserspaceExit round_trip(RunPage& p, const tdx::UserspaceExit& e) {
  EXPECT_EQ(ukvm::write_run_exit(p.run(), kRunSize, e), 0);
  auto read = kvm::read_vmm_exit(p.run(), kRunSize, 0);
  EXPECT_TRUE(read.has_value());
  if (!read) return {};
  EXPECT_TRUE(std::holds_alternative<tdx::UserspaceExit>(*read));
  return std::get<tdx::UserspaceExit>(*read);
}

TEST(UkvmRunExit, MmioBothWays) {
  RunPage p;
  auto back = round_trip(p, exit_of(tdx::MmioExit{0xfee00000, 8, true, 0x1122334455667788ull}));
  auto* m = std::get_if<tdx::MmioExit>(&back.kind);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gpa, 0xfee00000u);
  EXPECT_TRUE(m->is_write);
  EXPECT_EQ(m->data, 0x1122334455667788ull);

  const auto read = exit_of(tdx::MmioExit{0x1000, 4, false, 0});
  round_trip(p, read);
  tdx::VmmCompletion c;
  c.mmio_data = 0xcafef00d;
  ASSERT_FALSE(kvm::write_completion(p.run(), kRunSize, read, c).has_value());
  auto answer = ukvm::read_completion(p.run(), kRunSize, read);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->mmio_data, 0xcafef00du);
}

TEST(UkvmRunExit, PortIoBothWays) {
  RunPage p;
  auto back = round_trip(p, exit_of(tdx::PortIoExit{0x3f8, 1, true, 3, {'a', 'b', 'c'}}));
  auto* io = std::get_if<tdx::PortIoExit>(&back.kind);
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->port, 0x3f8);
  EXPECT_EQ(io->data, (std::vector<uint8_t>{'a', 'b', 'c'}));
  EXPECT_EQ(p.run().io.data_offset, 4096u);

  const auto in = exit_of(tdx::PortIoExit{0x60, 2, false, 2, {}});
  round_trip(p, in);
  tdx::VmmCompletion c;
  c.io_data = {1, 2, 3, 4};
  ASSERT_FALSE(kvm::write_completion(p.run(), kRunSize, in, c).has_value());
  auto answer = ukvm::read_completion(p.run(), kRunSize, in);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->io_data, c.io_data);

  // Data larger than the PIO page is refused, not written past the mapping.
  tdx::PortIoExit huge{0x60, 4, true, 3000, std::vector<uint8_t>(12000)};
  EXPECT_EQ(ukvm::write_run_exit(p.run(), kRunSize, exit_of(huge)), -EIO);
}

TEST(UkvmRunExit, MapGpaHypercall) {
  RunPage p;
  const auto e = exit_of(tdx::MapGpaExit{0x200000, 16, tdx::kMapGpaDecrypted});
  auto back = round_trip(p, e);
  auto* g = std::get_if<tdx::MapGpaExit>(&back.kind);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->gpa, 0x200000u);
  EXPECT_EQ(g->npages, 16u);
  EXPECT_EQ(p.run().hypercall.longmode, 1u);
  tdx::VmmCompletion c;
  c.ret = static_cast<uint64_t>(-EINVAL);
  ASSERT_FALSE(kvm::write_completion(p.run(), kRunSize, e, c).has_value());
  EXPECT_EQ(ukvm::read_completion(p.run(), kRunSize, e)->ret, c.ret);
}

TEST(UkvmRunExit, TdxExitsCarryKvmsPresetAndTheAnswer) {
  RunPage p;
  const auto q = exit_of(tdx::GetQuoteExit{0x300000, 0x1000});
  auto back = round_trip(p, q);
  ASSERT_NE(std::get_if<tdx::GetQuoteExit>(&back.kind), nullptr);
  EXPECT_EQ(t::tdx_exit(p.run()).ret, tdsim::abi::kVmcallSubfnUnsupported);
  tdx::VmmCompletion c;
  c.ret = tdsim::abi::kVmcallSuccess;
  ASSERT_FALSE(kvm::write_completion(p.run(), kRunSize, q, c).has_value());
  EXPECT_EQ(ukvm::read_completion(p.run(), kRunSize, q)->ret, tdsim::abi::kVmcallSuccess);

  const auto info = exit_of(tdx::GetTdVmCallInfoExit{1});
  back = round_trip(p, info);
  ASSERT_NE(std::get_if<tdx::GetTdVmCallInfoExit>(&back.kind), nullptr);
  EXPECT_EQ(t::tdx_exit(p.run()).ret, tdsim::abi::kVmcallSuccess);
  c.info = {1, 2, 3, 4};
  ASSERT_FALSE(kvm::write_completion(p.run(), kRunSize, info, c).has_value());
  EXPECT_EQ(ukvm::read_completion(p.run(), kRunSize, info)->info, c.info);

  back = round_trip(p, exit_of(tdx::SetupEventNotifyExit{0x40}));
  auto* n = std::get_if<tdx::SetupEventNotifyExit>(&back.kind);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->vector, 0x40u);
}

TEST(UkvmRunExit, FatalErrorIsATdxFatalSystemEvent) {
  RunPage p;
  tdx::FatalErrorExit f;
  f.error_code = (1ull << 63) | 0x55;
  f.info_gpa = 0x7000;
  f.message_regs = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto e = exit_of(f);
  auto back = round_trip(p, e);
  auto* g = std::get_if<tdx::FatalErrorExit>(&back.kind);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->error_code, f.error_code);
  EXPECT_EQ(g->info_gpa, f.info_gpa);
  EXPECT_EQ(g->message_regs, f.message_regs);
  EXPECT_FALSE(ukvm::read_completion(p.run(), kRunSize, e).has_value());
  EXPECT_FALSE(ukvm::reenterable(e));
}

TEST(UkvmRunExit, ShutdownHaltAndInterrupt) {
  RunPage p;
  EXPECT_EQ(ukvm::write_run_exit(p.run(), kRunSize, ukvm::Shutdown{"triple fault", {}}), 0);
  EXPECT_EQ(p.run().exit_reason, static_cast<uint32_t>(KVM_EXIT_SHUTDOWN));
  EXPECT_FALSE(ukvm::reenterable(ukvm::Shutdown{}));
  // A TD's HLT is no exit: the halted vCPU's KVM_RUN ends only for a signal.
  p.run().exit_reason = KVM_EXIT_MMIO;
  EXPECT_EQ(ukvm::write_run_exit(p.run(), kRunSize, ukvm::Halted{}), -EINTR);
  EXPECT_EQ(p.run().exit_reason, static_cast<uint32_t>(KVM_EXIT_INTR));
  EXPECT_TRUE(ukvm::reenterable(ukvm::Halted{}));
  EXPECT_EQ(ukvm::write_run_exit(p.run(), kRunSize, ukvm::Interrupted{}), -EINTR);
  EXPECT_EQ(p.run().exit_reason, static_cast<uint32_t>(KVM_EXIT_INTR));
}

}  // namespace
