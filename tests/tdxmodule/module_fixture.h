// A TdxModule over the conformance guest's image, driven directly with register sets
// (no engine): every leaf and sub-function decision can be asserted exactly.
#pragma once
#include <gtest/gtest.h>

#include <memory>

#include "core/guest_memory.h"
#include "tdx/tdx_module.h"
#include "tdsim/abi/tdx.h"
#include "conformance/runner.h"

namespace tdsim::tdxtest {

class ModuleTest : public ::testing::Test {
 protected:
  void SetUp() override { make(); }
  void make(tdx::TdxConfig cfg = {}) {
    module_.reset();
    mem_.reset();
    mem_ = std::make_unique<GuestMemory>(image_);
    module_ = std::make_unique<tdx::TdxModule>(image_, *mem_, std::move(cfg));
    module_->build_td();
  }
  tdx::TdcallResult call(const ucall::TdcallRegs& r, uint32_t vcpu = 0) {
    return module_->tdcall(vcpu, 0x401000, r);
  }
  // TDG.VP.VMCALL<subfn> exposing R10..R15.
  tdx::TdcallResult vmcall(uint64_t subfn, uint64_t r12 = 0, uint64_t r13 = 0, uint64_t r14 = 0,
                           uint64_t r15 = 0) {
    ucall::TdcallRegs r;
    r.rcx = abi::kVmcallExposeR10toR15;
    r.r11 = subfn;
    r.r12 = r12;
    r.r13 = r13;
    r.r14 = r14;
    r.r15 = r15;
    return call(r);
  }
  uint64_t elf_gpa() const { return image_.find(RegionKind::kGuestElf)->gpa; }
  uint64_t shared() const { return image_.shared_bit; }

  conformance::SuiteOptions opts_;
  TdImage image_ = conformance::build_suite_image(opts_);
  std::unique_ptr<GuestMemory> mem_;
  std::unique_ptr<tdx::TdxModule> module_;
};

template <class T>
const T& ev(const tdx::TdcallResult& r) {
  EXPECT_TRUE(r.event.has_value());
  return std::get<T>(*r.event);
}

}  // namespace tdsim::tdxtest
