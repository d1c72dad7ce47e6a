// The user-space KVM's ioctl surface called in process (no preload): each ioctl's answer
// and errno, the TDX ordering rules, hostile pointers, and the MRTD the live build
// accumulates from KVM_TDX_INIT_MEM_REGION against the measure library's own hash; with
// the engine, a halted vCPU's KVM_RUN blocking until a signal as KVM's does for a TD.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "kvm/tdx_uapi.h"
#include "ukvm/kvm_dispatch.h"
#include "ukvm/kvm_objects.h"
#include "ukvm/notice.h"
#include "ukvm/td_vcpu.h"
#include "ukvm/user_copy.h"

namespace {

using namespace tdsim;
namespace t = tdsim::kvm::tdx;

constexpr uint64_t kPage = 4096;

long io(int fd, unsigned long req, unsigned long arg = 0) { return ukvm::kvm_ioctl(fd, req, arg); }
template <class T>
long io(int fd, unsigned long req, T* p) {
  return ukvm::kvm_ioctl(fd, req, reinterpret_cast<unsigned long>(p));
}

long tdx(int fd, uint32_t id, uint32_t flags, uint64_t data, t::TdxCmd* out = nullptr) {
  t::TdxCmd cmd{id, flags, data, 0};
  const long r = io(fd, t::kKvmMemoryEncryptOp, &cmd);
  if (out) *out = cmd;
  return r;
}

std::vector<t::CpuidEntry2> supported_cpuid(int kvm) {
  std::vector<uint8_t> buf(sizeof(t::Cpuid2Header) + 64 * sizeof(t::CpuidEntry2));
  auto* h = reinterpret_cast<t::Cpuid2Header*>(buf.data());
  h->nent = 64;
  EXPECT_EQ(io(kvm, t::kKvmGetSupportedCpuid, buf.data()), 0);
  auto* e = reinterpret_cast<t::CpuidEntry2*>(buf.data() + sizeof *h);
  return {e, e + h->nent};
}

// KVM_TDX_INIT_VM's argument: the header and `entries` after it.
std::vector<uint8_t> init_vm_arg(const std::vector<t::CpuidEntry2>& entries, uint64_t attributes = 0,
                                 uint64_t xfam = 0x3) {
  std::vector<uint8_t> buf(sizeof(t::TdxInitVmHeader) + entries.size() * sizeof(t::CpuidEntry2));
  auto* h = reinterpret_cast<t::TdxInitVmHeader*>(buf.data());
  h->attributes = attributes;
  h->xfam = xfam;
  h->cpuid.nent = static_cast<uint32_t>(entries.size());
  std::memcpy(buf.data() + sizeof *h, entries.data(), entries.size() * sizeof(t::CpuidEntry2));
  return buf;
}

struct Td {
  int kvm = -1, vm = -1, vcpu = -1, gmem = -1;
  uint8_t* shared = nullptr;  // the program's memory for the slot
  uint64_t size = 16 * kPage;
};

// /dev/kvm, a TD with split irqchip and INIT_VM done.
Td initialized_td() {
  Td td;
  td.kvm = ukvm::open_kvm(O_RDWR | O_CLOEXEC);
  EXPECT_GE(td.kvm, 0);
  td.vm = static_cast<int>(io(td.kvm, KVM_CREATE_VM, t::kX86TdxVm));
  EXPECT_GE(td.vm, 0);
  kvm_enable_cap cap{};
  cap.cap = t::kCapSplitIrqchip;
  cap.args[0] = 24;
  EXPECT_EQ(io(td.vm, KVM_ENABLE_CAP, &cap), 0);
  auto arg = init_vm_arg(supported_cpuid(td.kvm));
  EXPECT_EQ(tdx(td.vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(arg.data())), 0);
  return td;
}

// ... plus vCPU 0 (INIT_VCPU'd), a guest_memfd slot at GPA 0 made PRIVATE.
Td td_with_memory() {
  Td td = initialized_td();
  td.vcpu = static_cast<int>(io(td.vm, KVM_CREATE_VCPU, 0ul));
  EXPECT_GE(td.vcpu, 0);
  t::CreateGuestMemfd g{td.size, 0, {}};
  td.gmem = static_cast<int>(io(td.vm, t::kKvmCreateGuestMemfd, &g));
  EXPECT_GE(td.gmem, 0);
  td.shared = static_cast<uint8_t*>(mmap(nullptr, td.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  t::UserspaceMemoryRegion2 r{};
  r.slot = 0;
  r.flags = t::kMemGuestMemfd;
  r.guest_phys_addr = 0;
  r.memory_size = td.size;
  r.userspace_addr = reinterpret_cast<uint64_t>(td.shared);
  r.guest_memfd = static_cast<uint32_t>(td.gmem);
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), 0);
  t::MemoryAttributes a{0, td.size, t::kMemoryAttributePrivate, 0};
  EXPECT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &a), 0);
  EXPECT_EQ(tdx(td.vcpu, t::kTdxInitVcpu, 0, 0), 0);
  return td;
}

long init_mem(const Td& td, uint64_t gpa, const void* src, uint64_t pages, bool measure) {
  t::TdxInitMemRegion region{reinterpret_cast<uint64_t>(src), gpa, pages};
  return tdx(td.vcpu, t::kTdxInitMemRegion, measure ? t::kTdxMeasureMemoryRegion : 0,
             reinterpret_cast<uint64_t>(&region));
}

TEST(UkvmSystem, AnswersWhatATdxKvmAnswers) {
  const int kvm = ukvm::open_kvm(O_RDWR);
  ASSERT_GE(kvm, 0);
  EXPECT_TRUE(ukvm::owns_fd(kvm));
  EXPECT_EQ(io(kvm, KVM_GET_API_VERSION), 12);
  EXPECT_EQ(io(kvm, KVM_GET_API_VERSION, 1ul), -EINVAL);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(t::kCapVmTypes)), 1 << 5);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(t::kCapExitHypercall)), 1 << 12);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(t::kCapMemoryAttributes)), 1 << 3);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(t::kCapGuestMemfd)), 1);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(KVM_CAP_IMMEDIATE_EXIT)), 1);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(KVM_CAP_READONLY_MEM)), 0);
  EXPECT_GT(io(kvm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(KVM_CAP_MAX_VCPUS)), 0);
  EXPECT_EQ(io(kvm, KVM_CHECK_EXTENSION, 99999ul), 0);
  EXPECT_EQ(io(kvm, KVM_GET_VCPU_MMAP_SIZE), 3 * 4096);
  // A TDX-only KVM: the default VM type is refused.
  EXPECT_EQ(io(kvm, KVM_CREATE_VM, 0ul), -EINVAL);
  EXPECT_EQ(io(kvm, KVM_GET_MSR_INDEX_LIST, 0ul), -ENOTTY);
  close(kvm);
  EXPECT_EQ(io(kvm, KVM_GET_API_VERSION), -EBADF);
}

TEST(UkvmSystem, SupportedCpuidFollowsTheE2bigProtocolAndReportsAddressWidths) {
  const int kvm = ukvm::open_kvm(O_RDWR);
  std::vector<uint8_t> buf(sizeof(t::Cpuid2Header) + 2 * sizeof(t::CpuidEntry2));
  reinterpret_cast<t::Cpuid2Header*>(buf.data())->nent = 2;
  EXPECT_EQ(io(kvm, t::kKvmGetSupportedCpuid, buf.data()), -E2BIG);
  bool found = false;
  for (const auto& e : supported_cpuid(kvm)) {
    if (e.function != t::kCpuidLeafAddressSizes) continue;
    found = true;
    EXPECT_EQ((e.eax >> 16) & 0xff, 48u);
    EXPECT_EQ((e.eax >> 8) & 0xff, 48u);
  }
  EXPECT_TRUE(found);
  // A pointer into nothing is EFAULT, not a crash.
  EXPECT_EQ(io(kvm, t::kKvmGetSupportedCpuid, 8ul), -EFAULT);
  close(kvm);
}

TEST(UkvmVm, TdxCapabilitiesGrowWithE2big) {
  const int kvm = ukvm::open_kvm(O_RDWR);
  const int vm = static_cast<int>(io(kvm, KVM_CREATE_VM, t::kX86TdxVm));
  ASSERT_GE(vm, 0);
  std::vector<uint8_t> buf(sizeof(t::TdxCapabilitiesHeader) + 64 * sizeof(t::CpuidEntry2));
  auto* h = reinterpret_cast<t::TdxCapabilitiesHeader*>(buf.data());
  h->cpuid.nent = 0;
  EXPECT_EQ(tdx(vm, t::kTdxCapabilities, 0, reinterpret_cast<uint64_t>(buf.data())), -E2BIG);
  h->cpuid.nent = 64;
  t::TdxCmd out{};
  EXPECT_EQ(tdx(vm, t::kTdxCapabilities, 0, reinterpret_cast<uint64_t>(buf.data()), &out), 0);
  EXPECT_EQ(out.hw_error, 0u);
  EXPECT_GT(h->cpuid.nent, 0u);
  EXPECT_LT(h->cpuid.nent, 64u);
  EXPECT_EQ(h->supported_xfam & 0x3, 0x3u);
  EXPECT_NE(h->user_tdvmcallinfo_1_r11, 0u);
  // hw_error must be 0 on input; unknown commands are EINVAL.
  t::TdxCmd bad{t::kTdxCapabilities, 0, reinterpret_cast<uint64_t>(buf.data()), 1};
  EXPECT_EQ(io(vm, t::kKvmMemoryEncryptOp, &bad), -EINVAL);
  EXPECT_EQ(tdx(vm, 77, 0, 0), -EINVAL);
  EXPECT_EQ(tdx(vm, t::kTdxInitVcpu, 0, 0), -EINVAL);  // a vCPU command on the VM fd
  EXPECT_EQ(io(vm, KVM_CREATE_IRQCHIP), -ENOTTY);
  EXPECT_EQ(io(vm, KVM_GET_TSC_KHZ), 2'000'000);
  close(vm);
  close(kvm);
}

TEST(UkvmVm, InitVmChecksItsArgument) {
  const int kvm = ukvm::open_kvm(O_RDWR);
  const int vm = static_cast<int>(io(kvm, KVM_CREATE_VM, t::kX86TdxVm));
  auto cpuid = supported_cpuid(kvm);
  auto attrs = init_vm_arg(cpuid, 1ull << 5);  // an attribute KVM does not offer
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(attrs.data())), -EINVAL);
  std::vector<t::CpuidEntry2> no_sizes;
  for (const auto& e : cpuid)
    if (e.function != t::kCpuidLeafAddressSizes) no_sizes.push_back(e);
  auto missing = init_vm_arg(no_sizes);
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(missing.data())), -EINVAL);
  auto reserved = init_vm_arg(cpuid);
  reinterpret_cast<t::TdxInitVmHeader*>(reserved.data())->reserved[3] = 1;
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(reserved.data())), -EINVAL);
  auto too_many = init_vm_arg(cpuid);
  reinterpret_cast<t::TdxInitVmHeader*>(too_many.data())->cpuid.nent = 1000;
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(too_many.data())), -E2BIG);
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, 16), -EFAULT);
  // vCPUs only after INIT_VM.
  EXPECT_EQ(io(vm, KVM_CREATE_VCPU, 0ul), -EIO);
  auto good = init_vm_arg(cpuid);
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(good.data())), 0);
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(good.data())), -EINVAL);  // once
  // ... and only with a split irqchip.
  EXPECT_EQ(io(vm, KVM_CREATE_VCPU, 0ul), -EINVAL);
  close(vm);
  close(kvm);
}

TEST(UkvmVm, EnableCapRules) {
  Td td = initialized_td();
  kvm_enable_cap cap{};
  cap.cap = t::kCapSplitIrqchip;
  cap.args[0] = 24;
  EXPECT_EQ(io(td.vm, KVM_ENABLE_CAP, &cap), -EEXIST);
  cap.cap = t::kCapExitHypercall;
  cap.args[0] = 1;  // a hypercall KVM does not hand out
  EXPECT_EQ(io(td.vm, KVM_ENABLE_CAP, &cap), -EINVAL);
  cap.args[0] = 1 << 12;
  EXPECT_EQ(io(td.vm, KVM_ENABLE_CAP, &cap), 0);
  cap.flags = 1;
  EXPECT_EQ(io(td.vm, KVM_ENABLE_CAP, &cap), -EINVAL);
  cap = {};
  cap.cap = 9999;
  EXPECT_EQ(io(td.vm, KVM_ENABLE_CAP, &cap), -EINVAL);
}

// KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS) lowers the TD's limit before KVM_TDX_INIT_VM (which
// copies it into TD_PARAMS.MAX_VCPUS): the VM then reports it, and KVM_CREATE_VCPU beyond
// it fails with EINVAL, as KVM's kvm_vm_ioctl_create_vcpu does.
TEST(UkvmVm, MaxVcpusIsLoweredBeforeInitVmAndLimitsCreateVcpu) {
  const int kvm = ukvm::open_kvm(O_RDWR);
  const int vm = static_cast<int>(io(kvm, KVM_CREATE_VM, t::kX86TdxVm));
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_MAX_VCPUS;
  cap.args[0] = 0;
  EXPECT_EQ(io(vm, KVM_ENABLE_CAP, &cap), -EINVAL);
  cap.args[0] = 1;
  EXPECT_EQ(io(vm, KVM_ENABLE_CAP, &cap), 0);
  EXPECT_EQ(io(vm, KVM_CHECK_EXTENSION, static_cast<unsigned long>(KVM_CAP_MAX_VCPUS)), 1);
  kvm_enable_cap irq{};
  irq.cap = t::kCapSplitIrqchip;
  irq.args[0] = 24;
  EXPECT_EQ(io(vm, KVM_ENABLE_CAP, &irq), 0);
  auto arg = init_vm_arg(supported_cpuid(kvm));
  EXPECT_EQ(tdx(vm, t::kTdxInitVm, 0, reinterpret_cast<uint64_t>(arg.data())), 0);
  EXPECT_EQ(io(vm, KVM_ENABLE_CAP, &cap), -EBUSY) << "TD_PARAMS are fixed at INIT_VM";
  const long vcpu = io(vm, KVM_CREATE_VCPU, 0ul);
  EXPECT_GE(vcpu, 0);
  EXPECT_EQ(io(vm, KVM_CREATE_VCPU, 1ul), -EINVAL) << "one vCPU beyond MAX_VCPUS";
  if (vcpu >= 0) close(static_cast<int>(vcpu));
  close(vm);
  close(kvm);
}

TEST(UkvmVm, VcpuIdsAndIoctlsOnAProtectedVcpu) {
  Td td = initialized_td();
  const int vcpu = static_cast<int>(io(td.vm, KVM_CREATE_VCPU, 3ul));
  ASSERT_GE(vcpu, 0);
  EXPECT_EQ(io(td.vm, KVM_CREATE_VCPU, 3ul), -EEXIST);
  EXPECT_EQ(io(td.vm, KVM_CREATE_VCPU, 100000ul), -EINVAL);
  kvm_regs regs{};
  EXPECT_EQ(io(vcpu, KVM_GET_REGS, &regs), -EINVAL);
  EXPECT_EQ(io(vcpu, KVM_SET_REGS, &regs), -EINVAL);
  kvm_sregs sregs{};
  EXPECT_EQ(io(vcpu, KVM_GET_SREGS, &sregs), -EINVAL);
  kvm_mp_state mp{KVM_MP_STATE_RUNNABLE};
  EXPECT_EQ(io(vcpu, KVM_SET_MP_STATE, &mp), 0);
  mp.mp_state = KVM_MP_STATE_HALTED;
  EXPECT_EQ(io(vcpu, KVM_SET_MP_STATE, &mp), -EINVAL);
  EXPECT_EQ(io(vcpu, KVM_GET_TSC_KHZ), 2'000'000);
  EXPECT_EQ(io(vcpu, KVM_SET_GUEST_DEBUG, 0ul), -ENOTTY);
  // The vCPU fd maps at KVM_GET_VCPU_MMAP_SIZE and cannot be resized under us.
  void* run = mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  ASSERT_NE(run, MAP_FAILED);
  EXPECT_NE(ftruncate(vcpu, 0), 0);
  munmap(run, 3 * 4096);
}

TEST(UkvmVm, TdCpuidRoundTripsThroughSetAndGetCpuid2) {
  Td td = initialized_td();
  const int vcpu = static_cast<int>(io(td.vm, KVM_CREATE_VCPU, 0ul));
  std::vector<uint8_t> buf(sizeof(t::Cpuid2Header) + 64 * sizeof(t::CpuidEntry2));
  auto* h = reinterpret_cast<t::Cpuid2Header*>(buf.data());
  h->nent = 1;
  EXPECT_EQ(tdx(vcpu, t::kTdxGetCpuid, 0, reinterpret_cast<uint64_t>(buf.data())), -E2BIG);
  const uint32_t want = h->nent;  // KVM says how many it needs
  EXPECT_GT(want, 1u);
  h->nent = want;
  EXPECT_EQ(tdx(vcpu, t::kTdxGetCpuid, 0, reinterpret_cast<uint64_t>(buf.data())), 0);
  bool tdx_leaf = false;
  for (uint32_t i = 0; i < h->nent; ++i)
    tdx_leaf |= reinterpret_cast<t::CpuidEntry2*>(buf.data() + sizeof *h)[i].function == 0x21;
  EXPECT_TRUE(tdx_leaf);
  EXPECT_EQ(io(vcpu, t::kKvmSetCpuid2, buf.data()), 0);
  std::vector<uint8_t> back(buf.size());
  reinterpret_cast<t::Cpuid2Header*>(back.data())->nent = 1;
  EXPECT_EQ(io(vcpu, t::kKvmGetCpuid2, back.data()), -E2BIG);
  reinterpret_cast<t::Cpuid2Header*>(back.data())->nent = 64;
  EXPECT_EQ(io(vcpu, t::kKvmGetCpuid2, back.data()), 0);
  EXPECT_EQ(std::memcmp(back.data(), buf.data(), sizeof *h + want * sizeof(t::CpuidEntry2)), 0);
}

TEST(UkvmMemory, GuestMemfdAndMemslotRules) {
  Td td = initialized_td();
  t::CreateGuestMemfd g{4 * kPage, t::kGuestMemfdFlagInitShared, {}};
  EXPECT_EQ(io(td.vm, t::kKvmCreateGuestMemfd, &g), -EINVAL);  // the VM-scoped attribute model
  g = {4 * kPage + 1, 0, {}};
  EXPECT_EQ(io(td.vm, t::kKvmCreateGuestMemfd, &g), -EINVAL);
  g = {4 * kPage, 0, {}};
  g.reserved[0] = 1;
  EXPECT_EQ(io(td.vm, t::kKvmCreateGuestMemfd, &g), -EINVAL);
  g.reserved[0] = 0;
  const int gmem = static_cast<int>(io(td.vm, t::kKvmCreateGuestMemfd, &g));
  ASSERT_GE(gmem, 0);
  // Private memory is not the program's to write.
  EXPECT_EQ(mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, gmem, 0), MAP_FAILED);
  EXPECT_LT(write(gmem, "x", 1), 0);

  void* mem = mmap(nullptr, 8 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t::UserspaceMemoryRegion2 r{};
  r.slot = 1;
  r.flags = t::kMemGuestMemfd;
  r.guest_phys_addr = 0x100000;
  r.memory_size = 4 * kPage;
  r.userspace_addr = reinterpret_cast<uint64_t>(mem);
  r.guest_memfd = static_cast<uint32_t>(gmem);
  r.guest_memfd_offset = kPage;  // runs past the guest_memfd's end
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), -EINVAL);
  r.guest_memfd_offset = 0;
  r.flags |= KVM_MEM_READONLY;
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), -EINVAL);
  r.flags = t::kMemGuestMemfd;
  r.guest_phys_addr = 0x100800;  // unaligned
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), -EINVAL);
  r.guest_phys_addr = 0x100000;
  r.guest_memfd = 12345;  // not a guest_memfd
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), -EINVAL);
  r.guest_memfd = static_cast<uint32_t>(gmem);
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), 0);
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), 0);  // the same slot again
  t::UserspaceMemoryRegion2 overlap = r;
  overlap.slot = 2;
  overlap.flags = 0;
  overlap.guest_phys_addr = 0x102000;
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &overlap), -EEXIST);
  overlap.guest_phys_addr = 0x200000;
  overlap.flags = t::kMemGuestMemfd;  // the same guest_memfd range bound twice
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &overlap), -EEXIST);
  overlap.flags = 0;
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &overlap), 0);  // shared-only slot
  EXPECT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, 8ul), -EFAULT);

  t::MemoryAttributes a{0x100000, 4 * kPage, 1, 0};
  EXPECT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &a), -EINVAL);  // not an attribute
  a = {0x100001, 4 * kPage, t::kMemoryAttributePrivate, 0};
  EXPECT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &a), -EINVAL);
  a = {0x100000, 4 * kPage, t::kMemoryAttributePrivate, 1};
  EXPECT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &a), -EINVAL);
  a.flags = 0;
  EXPECT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &a), 0);
  munmap(mem, 8 * kPage);
}

TEST(UkvmTdBuild, InitMemRegionMeasuresLiveAndFinalizeFixesTheMrtd) {
  Td td = td_with_memory();
  std::vector<uint8_t> src(3 * kPage);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 1);
  void* aligned_src = mmap(nullptr, src.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  std::memcpy(aligned_src, src.data(), src.size());

  EXPECT_EQ(init_mem(td, 0x2000, aligned_src, 2, true), 0);
  EXPECT_EQ(init_mem(td, 0x8000, static_cast<uint8_t*>(aligned_src) + 2 * kPage, 1, false), 0);
  // Rules: each page once, private GPAs only, aligned, a mapped source, known flags.
  EXPECT_EQ(init_mem(td, 0x2000, aligned_src, 1, true), -EEXIST);
  EXPECT_EQ(init_mem(td, 0x3001, aligned_src, 1, true), -EINVAL);
  EXPECT_EQ(init_mem(td, 0x3000, aligned_src, 0, true), -EINVAL);
  EXPECT_EQ(init_mem(td, (1ull << 47) | 0x3000, aligned_src, 1, true), -EINVAL);  // shared bit
  EXPECT_EQ(init_mem(td, 0x5000, reinterpret_cast<void*>(0x1000), 1, true), -EFAULT);
  EXPECT_EQ(init_mem(td, 0x100000, aligned_src, 1, true), -EINVAL);  // no memslot
  t::MemoryAttributes shared{0x4000, kPage, 0, 0};
  EXPECT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &shared), 0);
  EXPECT_EQ(init_mem(td, 0x4000, aligned_src, 1, true), -EINVAL);  // not PRIVATE
  t::TdxInitMemRegion r{reinterpret_cast<uint64_t>(aligned_src), 0x5000, 1};
  EXPECT_EQ(tdx(td.vcpu, t::kTdxInitMemRegion, 2, reinterpret_cast<uint64_t>(&r)), -EINVAL);

  // KVM_RUN waits for FINALIZE.
  EXPECT_EQ(io(td.vcpu, KVM_RUN), -EINVAL);
  EXPECT_FALSE(ukvm::td_mrtd(td.vm).has_value());
  EXPECT_EQ(tdx(td.vm, t::kTdxFinalizeVm, 0, 1), -EINVAL);  // data must be 0
  EXPECT_EQ(tdx(td.vm, t::kTdxFinalizeVm, 0, 0), 0);

  measure::MrtdAccumulator acc;
  for (uint64_t page = 0; page < 2; ++page) {
    acc.page_add(0x2000 + page * kPage);
    for (uint64_t off = 0; off < kPage; off += 256)
      acc.mr_extend(0x2000 + page * kPage + off,
                    std::span<const uint8_t, 256>(src.data() + page * kPage + off, 256));
  }
  acc.page_add(0x8000);
  const auto mrtd = ukvm::td_mrtd(td.vm);
  ASSERT_TRUE(mrtd.has_value());
  EXPECT_EQ(mrtd->hex(), acc.finalize().hex());

  // Nothing is added after FINALIZE.
  EXPECT_EQ(init_mem(td, 0x9000, aligned_src, 1, false), -EINVAL);
  EXPECT_EQ(tdx(td.vm, t::kTdxFinalizeVm, 0, 0), -EINVAL);
  EXPECT_EQ(io(td.vm, KVM_CREATE_VCPU, 1ul), -EIO);
  EXPECT_EQ(tdx(td.vcpu, t::kTdxInitVcpu, 0, 0), -EINVAL);

  // immediate_exit: -EINTR with the exit data left as it was.
  auto* run = static_cast<kvm_run*>(mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, td.vcpu, 0));
  ASSERT_NE(run, MAP_FAILED);
  run->exit_reason = KVM_EXIT_MMIO;
  run->mmio.phys_addr = 0x1234;
  run->immediate_exit = 1;
  EXPECT_EQ(io(td.vcpu, KVM_RUN), -EINTR);
  EXPECT_EQ(run->exit_reason, static_cast<uint32_t>(KVM_EXIT_MMIO));
  EXPECT_EQ(run->mmio.phys_addr, 0x1234u);
  munmap(run, 3 * 4096);
  munmap(aligned_src, src.size());
}

#ifdef TDSIM_UKVM_HAVE_ENGINE
// What the preload's signal-handler wrapper does after the program's handler.
void kick_handler(int) { ukvm::kick_running_vcpu_of_this_thread(); }

// KVM_RUN on this thread, with SIGUSR1 sent to it `after` from another thread: its
// result and how long it took.
std::pair<long, std::chrono::milliseconds> run_until_signal(int vcpu, std::chrono::milliseconds after) {
  const pthread_t self = pthread_self();
  std::thread sender([&] {
    std::this_thread::sleep_for(after);
    pthread_kill(self, SIGUSR1);
  });
  const auto t0 = std::chrono::steady_clock::now();
  const long r = io(vcpu, KVM_RUN);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  sender.join();
  return {r, took};
}

// A TD's HLT is no exit (its local APIC is in the kernel): KVM marks the vCPU HALTED and
// blocks in KVM_RUN until an interrupt or a signal, which ends it with EINTR.
TEST(UkvmRun, AHaltedTdVcpuBlocksInKvmRunUntilASignal) {
  Td td = td_with_memory();
  // The reset page at GPA 0xfffff000, private, holding everything a TDG.VP.VMCALL<HLT>
  // needs (a raw HLT would be a #VE, and with no IDT a shutdown): a GDT, page tables that
  // reuse the page (PML4[0] and PDPT[3] point at it, PD[511] maps the top 2 MiB), 32-bit
  // code that enters 64-bit mode (EFER.LME is set in the TD initial state), and a loop
  // making the VMCALL.
  t::CreateGuestMemfd g{kPage, 0, {}};
  const int gmem = static_cast<int>(io(td.vm, t::kKvmCreateGuestMemfd, &g));
  ASSERT_GE(gmem, 0);
  auto* shared = static_cast<uint8_t*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  t::UserspaceMemoryRegion2 r{};
  r.slot = 1;
  r.flags = t::kMemGuestMemfd;
  r.guest_phys_addr = 0xfffff000;
  r.memory_size = kPage;
  r.userspace_addr = reinterpret_cast<uint64_t>(shared);
  r.guest_memfd = static_cast<uint32_t>(gmem);
  ASSERT_EQ(io(td.vm, t::kKvmSetUserMemoryRegion2, &r), 0);
  t::MemoryAttributes a{0xfffff000, kPage, t::kMemoryAttributePrivate, 0};
  ASSERT_EQ(io(td.vm, t::kKvmSetMemoryAttributes, &a), 0);
  auto* page = static_cast<uint8_t*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  const auto put = [&](size_t at, std::initializer_list<uint8_t> bytes) {
    std::copy(bytes.begin(), bytes.end(), page + at);
  };
  const auto put64 = [&](size_t at, uint64_t v) { std::memcpy(page + at, &v, 8); };
  put64(0x000, 0xfffff003);  // PML4[0] -> this page as the PDPT
  put64(0x018, 0xfffff003);  // PDPT[3] -> this page as the PD
  put64(0xff8, 0xffe00083);  // PD[511]: 2 MiB at 0xffe00000
  put64(0x048, 0x00af9a000000ffff);  // GDT at 0x40: null, 64-bit code (0x08), data (0x10)
  put64(0x050, 0x00cf92000000ffff);
  put(0x060, {23, 0, 0x40, 0xf0, 0xff, 0xff});  // GDTR: limit 23, base 0xfffff040
  put(0x100, {0x0f, 0x01, 0x15, 0x60, 0xf0, 0xff, 0xff,  // lgdt 0xfffff060
              0xb8, 0x00, 0xf0, 0xff, 0xff,              // mov $0xfffff000, %eax
              0x0f, 0x22, 0xd8,                          // mov %eax, %cr3
              0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20,        // mov %cr4, %eax; or $0x20 (PAE)
              0x0f, 0x22, 0xe0,                          // mov %eax, %cr4
              0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80,  // mov %cr0, %eax; or $PG
              0x0f, 0x22, 0xc0,                          // mov %eax, %cr0
              0xea, 0x40, 0xf1, 0xff, 0xff, 0x08, 0x00});  // ljmp $0x08, $0xfffff140
  put(0x140, {0x31, 0xc0,                          // xor %eax, %eax: TDG.VP.VMCALL
              0xb9, 0x00, 0x1c, 0x00, 0x00,        // mov $0x1c00, %ecx: R10..R12
              0x45, 0x31, 0xd2,                    // xor %r10d, %r10d
              0x41, 0xbb, 0x0c, 0x00, 0x00, 0x00,  // mov $12, %r11d: Instruction.HLT
              0x45, 0x31, 0xe4,                    // xor %r12d, %r12d: interrupts not blocked
              0x66, 0x0f, 0x01, 0xcc,              // tdcall
              0xeb, 0xe7});                        // jmp 0xfffff140
  put(0xff0, {0xe9, 0x0b, 0xf1, 0xff, 0xff});  // reset vector: jmp 0xfffff100
  ASSERT_EQ(init_mem(td, 0xfffff000, page, 1, true), 0);
  ASSERT_EQ(tdx(td.vm, t::kTdxFinalizeVm, 0, 0), 0);
  auto* run = static_cast<kvm_run*>(mmap(nullptr, 3 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, td.vcpu, 0));
  ASSERT_NE(run, MAP_FAILED);

  struct sigaction sa {}, old{};
  sa.sa_handler = kick_handler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  kvm_mp_state mp{};
  ASSERT_EQ(io(td.vcpu, KVM_GET_MP_STATE, &mp), 0);
  EXPECT_EQ(mp.mp_state, static_cast<uint32_t>(KVM_MP_STATE_RUNNABLE));
  run->mmio.phys_addr = 0x1234;  // exit data a signal exit leaves alone
  auto [res, took] = run_until_signal(td.vcpu, std::chrono::milliseconds(300));
  EXPECT_EQ(res, -EINTR);
  EXPECT_GE(took.count(), 250) << "KVM_RUN returned before the signal";
  EXPECT_EQ(run->exit_reason, static_cast<uint32_t>(KVM_EXIT_INTR));
  EXPECT_EQ(run->mmio.phys_addr, 0x1234u);
  ASSERT_EQ(io(td.vcpu, KVM_GET_MP_STATE, &mp), 0);
  EXPECT_EQ(mp.mp_state, static_cast<uint32_t>(KVM_MP_STATE_HALTED));
  // Still halted: the next KVM_RUN blocks again; immediate_exit still returns at once.
  std::tie(res, took) = run_until_signal(td.vcpu, std::chrono::milliseconds(200));
  EXPECT_EQ(res, -EINTR);
  EXPECT_GE(took.count(), 150);
  run->immediate_exit = 1;
  std::tie(res, took) = run_until_signal(td.vcpu, std::chrono::milliseconds(200));
  EXPECT_EQ(res, -EINTR);
  EXPECT_LT(took.count(), 150);
  run->immediate_exit = 0;
  // KVM_SET_MP_STATE makes it RUNNABLE again (its next KVM_RUN carries on after the HLT).
  mp.mp_state = KVM_MP_STATE_RUNNABLE;
  EXPECT_EQ(io(td.vcpu, KVM_SET_MP_STATE, &mp), 0);
  ASSERT_EQ(io(td.vcpu, KVM_GET_MP_STATE, &mp), 0);
  EXPECT_EQ(mp.mp_state, static_cast<uint32_t>(KVM_MP_STATE_RUNNABLE));

  sigaction(SIGUSR1, &old, nullptr);
  munmap(run, 3 * kPage);
  munmap(page, kPage);
}
#endif

TEST(UkvmTdBuild, InitMemRegionNeedsInitVcpu) {
  Td td = initialized_td();
  const int vcpu = static_cast<int>(io(td.vm, KVM_CREATE_VCPU, 0ul));
  td.vcpu = vcpu;
  std::vector<uint8_t> page(2 * kPage);
  EXPECT_EQ(init_mem(td, 0, page.data(), 1, false), -EINVAL);
  EXPECT_EQ(tdx(vcpu, t::kTdxInitVcpu, 1, 0), -EINVAL);  // flags
  EXPECT_EQ(tdx(vcpu, t::kTdxInitVcpu, 0, 0), 0);
  EXPECT_EQ(tdx(vcpu, t::kTdxInitVcpu, 0, 0), -EINVAL);  // once
  EXPECT_EQ(tdx(vcpu, t::kTdxFinalizeVm, 0, 0), -EINVAL);  // a VM command on the vCPU fd
}

TEST(UkvmFds, StatsFdHoldsAHeader) {
  Td td = initialized_td();
  const int stats = static_cast<int>(io(td.vm, KVM_GET_STATS_FD));
  ASSERT_GE(stats, 0);
  kvm_stats_header h{};
  ASSERT_EQ(pread(stats, &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
  EXPECT_EQ(h.num_desc, 0u);
  EXPECT_EQ(h.id_offset, sizeof h);
  char id[48] = {};
  ASSERT_EQ(pread(stats, id, sizeof id, h.id_offset), static_cast<ssize_t>(sizeof id));
  EXPECT_EQ(std::strncmp(id, "kvm-", 4), 0);
  close(stats);
}

TEST(UkvmFds, DupAndForkNameTheSameObject) {
  const int kvm = ukvm::open_kvm(O_RDWR);
  const int copy = dup(kvm);
  EXPECT_EQ(io(copy, KVM_GET_API_VERSION), 12);
  close(copy);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The selftests harness: /dev/kvm opened in the parent, the VM made in the child.
    const long vm = io(kvm, KVM_CREATE_VM, t::kX86TdxVm);
    _exit(vm >= 0 && ukvm::owns_fd(static_cast<int>(vm)) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(kvm);
  // A plain file is not ours.
  const int other = memfd_create("other", 0);
  EXPECT_FALSE(ukvm::owns_fd(other));
  EXPECT_EQ(io(other, KVM_GET_API_VERSION), -EBADF);
  close(other);
}

// Mappings of this process whose file is a memfd named `name`: the library's own
// mappings of its objects, and any an earlier test in this process made itself.
int mappings_of(const char* name) {
  FILE* f = std::fopen("/proc/self/maps", "r");
  int n = 0;
  char line[512];
  while (f && std::fgets(line, sizeof line, f))
    if (std::strstr(line, name)) ++n;
  if (f) std::fclose(f);
  return n;
}

// What the ioctl fuzzer relies on between inputs: forgetting every object releases the
// vCPU's kvm_run mapping and the guest_memfd's mapping (each object owns its own), and
// no fd names an object after it; /dev/kvm works again at once.
TEST(UkvmFds, ForgetAllObjectsReleasesEveryObjectAndItsMapping) {
  Td td = initialized_td();
  td.vcpu = static_cast<int>(io(td.vm, KVM_CREATE_VCPU, 0ul));
  ASSERT_GE(td.vcpu, 0);
  t::CreateGuestMemfd g{};
  g.size = 4 * kPage;
  td.gmem = static_cast<int>(io(td.vm, t::kKvmCreateGuestMemfd, &g));
  ASSERT_GE(td.gmem, 0);
  const int vcpu_maps = mappings_of("kvm-vcpu"), gmem_maps = mappings_of("kvm-guest-memfd");
  EXPECT_GE(vcpu_maps, 1);
  EXPECT_GE(gmem_maps, 1);
  ukvm::forget_all_objects();
  for (int fd : {td.kvm, td.vm, td.vcpu, td.gmem}) {
    EXPECT_FALSE(ukvm::owns_fd(fd)) << fd;
    EXPECT_EQ(io(fd, KVM_GET_API_VERSION), -EBADF);
    close(fd);
  }
  // At least this test's two are gone (every object's own mapping is; a test's own
  // mmap of a vCPU fd is the test's).
  EXPECT_LE(mappings_of("kvm-vcpu"), vcpu_maps - 1);
  EXPECT_LE(mappings_of("kvm-guest-memfd"), gmem_maps - 1);
  const int kvm = ukvm::open_kvm(O_RDWR | O_CLOEXEC);
  ASSERT_GE(kvm, 0);
  EXPECT_EQ(io(kvm, KVM_GET_API_VERSION), 12);
  close(kvm);
}

// The memory a TD's engine maps directly (at FINALIZE, or added to a running TD) must be
// readable and writable: mincore counted PROT_NONE and read-only pages as mapped, and the
// engine would then have faulted on them.
TEST(UkvmUserCopy, CheckMappedWantsEveryPageReadableAndWritable) {
  // Five pages, the fifth given back: nothing else can sit right after the fourth.
  auto* p = static_cast<uint8_t*>(mmap(nullptr, 5 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(munmap(p + 4 * kPage, kPage), 0);
  const auto a = reinterpret_cast<uint64_t>(p);
  EXPECT_EQ(ukvm::check_mapped(a, 4 * kPage), 0);
  EXPECT_EQ(ukvm::check_mapped(a + 1, 10), 0) << "a range inside one page";
  ASSERT_EQ(mprotect(p + kPage, kPage, PROT_NONE), 0);
  EXPECT_EQ(ukvm::check_mapped(a, 4 * kPage), -EFAULT) << "a PROT_NONE page";
  EXPECT_EQ(ukvm::check_mapped(a, kPage), 0) << "the pages before it";
  EXPECT_EQ(ukvm::check_mapped(a + 2 * kPage, 2 * kPage), 0) << "the pages after it";
  ASSERT_EQ(mprotect(p + kPage, kPage, PROT_READ), 0);
  EXPECT_EQ(ukvm::check_mapped(a, 4 * kPage), -EFAULT) << "a read-only page";
  ASSERT_EQ(munmap(p + kPage, kPage), 0);
  EXPECT_EQ(ukvm::check_mapped(a, 4 * kPage), -EFAULT) << "a hole";
  EXPECT_EQ(ukvm::check_mapped(a + 3 * kPage, 2 * kPage), -EFAULT) << "past the end of the mapping";
  EXPECT_EQ(ukvm::check_mapped(~0ull - 10, 20), -EFAULT) << "a range that wraps";
  EXPECT_EQ(ukvm::check_mapped(a, 0), 0) << "an empty range";
  munmap(p, kPage);
  munmap(p + 2 * kPage, 2 * kPage);
}

// The notices name a C program's requests: the numbers below are what gcc makes of
// <linux/kvm.h>'s macros (struct sizes without C++'s flexible-array padding).
TEST(UkvmNotice, IoctlsWithFlexibleArrayStructsAreNamedByTheKernelsNumbers) {
  using tdsim::ukvm::ioctl_name;
  EXPECT_EQ(ioctl_name(0xc008ae88ul), "KVM_GET_MSRS");
  EXPECT_EQ(ioctl_name(0x4008ae89ul), "KVM_SET_MSRS");
  EXPECT_EQ(ioctl_name(0x4008ae90ul), "KVM_SET_CPUID2");
  EXPECT_EQ(ioctl_name(0xc004ae02ul), "KVM_GET_MSR_INDEX_LIST");
  EXPECT_EQ(ioctl_name(0xc004ae0aul), "KVM_GET_MSR_FEATURE_INDEX_LIST");
  EXPECT_EQ(ioctl_name(0x4004ae8bul), "KVM_SET_SIGNAL_MASK");
  EXPECT_EQ(ioctl_name(0x9000aea4ul), "KVM_GET_XSAVE");
  EXPECT_EQ(ioctl_name(0x5000aea5ul), "KVM_SET_XSAVE");
  EXPECT_EQ(ioctl_name(0x4008ae6aul), "KVM_SET_GSI_ROUTING");
}

}  // namespace
