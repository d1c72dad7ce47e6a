#include "td_vm.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capabilities.h"
#include "core/text_escape.h"
#include "event_log.h"
#include "exec_options.h"
#include "gdb_follow.h"
#include "notice.h"
#include "td_vcpu.h"
#include "tdx/cpuid_model.h"
#include "user_copy.h"

namespace tdsim::ukvm {

namespace t = kvm::tdx;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kKnownSlotFlags = KVM_MEM_LOG_DIRTY_PAGES | t::kMemGuestMemfd;
constexpr uint64_t kMaxSlotPages = (1ull << 31) - 1;  // KVM_MEM_MAX_NR_PAGES
// KVM_STATS_NAME_SIZE (include/linux/kvm_host.h): the id field of a stats header.
constexpr uint32_t kStatsNameSize = 48;

bool aligned(uint64_t v) { return (v & (kPage - 1)) == 0; }

}  // namespace

long new_stats_fd(const std::string& id) {
  kvm_stats_header h{};
  h.name_size = kStatsNameSize;
  h.num_desc = 0;
  h.id_offset = sizeof h;
  h.desc_offset = h.id_offset + kStatsNameSize;
  h.data_offset = h.desc_offset;
  std::vector<char> bytes(h.data_offset, 0);
  std::memcpy(bytes.data(), &h, sizeof h);
  std::memcpy(bytes.data() + h.id_offset, id.data(), std::min<size_t>(id.size(), kStatsNameSize - 1));
  const int fd = new_object_fd("kvm-stats", 0, KvmObject{KvmObject::Kind::kStats, {}, {}, {}}, false);
  if (fd < 0) return fd;
  if (pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    const int err = errno ? errno : EIO;
    close(fd);
    return -err;
  }
  return fd;
}

long create_vm(unsigned long type) {
  // A TDX-only KVM: KVM_CAP_VM_TYPES offers type 5 alone, and kvm_arch_init_vm refuses a
  // type outside that mask with EINVAL.
  if (type != t::kX86TdxVm) return -EINVAL;
  auto vm = std::make_shared<TdVm>();
  return new_object_fd("kvm-vm", 0, KvmObject{KvmObject::Kind::kVm, vm, {}, {}}, false);
}

long TdVm::ioctl(unsigned long request, unsigned long arg) {
  switch (request) {
    case KVM_CHECK_EXTENSION: return check_extension(static_cast<long>(arg));
    case KVM_CREATE_VCPU: return create_vcpu(arg);
    case KVM_ENABLE_CAP: return enable_cap(arg);
    // A TD's local APIC is in the kernel and its I/O APIC in userspace: KVM refuses an
    // in-kernel irqchip for it.
    case KVM_CREATE_IRQCHIP: return -ENOTTY;
    case KVM_GET_TSC_KHZ: return kTscKhz;
    case t::kKvmCreateGuestMemfd: return create_guest_memfd(arg);
    case KVM_SET_USER_MEMORY_REGION:
    case t::kKvmSetUserMemoryRegion2: return set_memory_region(request, arg);
    case t::kKvmSetMemoryAttributes: return set_memory_attributes(arg);
    case t::kKvmMemoryEncryptOp: return memory_encrypt_op(arg);
    case KVM_GET_STATS_FD: return stats_fd();
    default: return unimplemented("VM", request, ENOTTY);
  }
}

long TdVm::check_extension(long cap) const {
  if (cap == KVM_CAP_MAX_VCPUS && max_vcpus_) return max_vcpus_;
  return ukvm::check_extension(cap, true);
}

long TdVm::stats_fd() { return new_stats_fd(fmt::format("kvm-{}", getpid())); }

long TdVm::create_vcpu(unsigned long id) {
  if (id >= kMaxVcpuId) return -EINVAL;
  if (vcpus_.size() >= (max_vcpus_ ? max_vcpus_ : kMaxVcpus)) return -EINVAL;
  for (const auto& v : vcpus_)
    if (v->id() == id) return -EEXIST;
  // tdx_vcpu_create: only between INIT_VM and FINALIZE, and only with a split irqchip.
  if (state_ != State::kInitialized) return -EIO;
  if (!split_irqchip_) return -EINVAL;
  const int fd = new_memfd("kvm-vcpu", kVcpuMmapSize, true);
  if (fd < 0) return fd;
  void* map = mmap(nullptr, kVcpuMmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return -err;
  }
  const auto index = static_cast<uint32_t>(vcpus_.size());
  std::shared_ptr<TdVcpu> vcpu;
  try {
    vcpu = std::make_shared<TdVcpu>(*this, static_cast<uint32_t>(id), index, static_cast<kvm_run*>(map));  // owns `map`
  } catch (const std::bad_alloc&) {
    munmap(map, kVcpuMmapSize);
    close(fd);
    return -ENOMEM;
  }
  if (const int err = register_object(fd, KvmObject{KvmObject::Kind::kVcpu, shared_from_this(), vcpu, {}}); err < 0) {
    close(fd);
    return err;
  }
  vcpus_.push_back(std::move(vcpu));
  return fd;
}

long TdVm::enable_cap(unsigned long arg) {
  kvm_enable_cap cap{};
  if (const int err = read_user(cap, arg)) return err;
  if (cap.flags) return -EINVAL;
  switch (cap.cap) {
    case t::kCapSplitIrqchip:
      if (cap.args[0] > kMaxReservedIoapicPins) return -EINVAL;
      if (!vcpus_.empty()) return -EINVAL;
      if (split_irqchip_) return -EEXIST;
      split_irqchip_ = true;
      return 0;
    case t::kCapExitHypercall:
      if (cap.args[0] & ~kExitHypercallValidMask) return -EINVAL;
      exit_hypercalls_ = cap.args[0];
      return 0;
    case KVM_CAP_MAX_VCPUS:
      if (!vcpus_.empty() || state_ != State::kCreated) return -EBUSY;
      if (cap.args[0] == 0 || cap.args[0] > kMaxVcpus) return -EINVAL;
      max_vcpus_ = static_cast<uint32_t>(cap.args[0]);
      return 0;
    default:
      notice(fmt::format("KVM_ENABLE_CAP({}) on a VM fd is not implemented: {}", cap.cap, std::strerror(EINVAL)));
      return -EINVAL;
  }
}

long TdVm::create_guest_memfd(unsigned long arg) {
  t::CreateGuestMemfd g{};
  if (const int err = read_user(g, arg)) return err;
  for (uint64_t r : g.reserved)
    if (r) return -EINVAL;
  // One attribute model (docs/userspace-kvm.md): memory attributes are the VM's, so a
  // TD's guest_memfd takes no flags (neither MMAP nor INIT_SHARED), as on a kernel
  // without in-place conversion.
  if (g.flags) return -EINVAL;
  if (g.size == 0 || !aligned(g.size)) return -EINVAL;
  const int fd = new_memfd("kvm-guest-memfd", g.size, true);
  if (fd < 0) return fd;
  void* map = mmap(nullptr, g.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (map == MAP_FAILED) {
    close(fd);
    return -ENOMEM;
  }
  // Private memory is written only through KVM_TDX_INIT_MEM_REGION: the program may not
  // map it writable or write(2) to it. Our mapping, made before the seal, stays writable.
  std::shared_ptr<GuestMemfd> gmem;
  try {
    gmem = std::make_shared<GuestMemfd>(g.size, static_cast<uint8_t*>(map), this);  // owns `map` from here
  } catch (const std::bad_alloc&) {
    munmap(map, g.size);
    close(fd);
    return -ENOMEM;
  }
  int err = seal_future_writes(fd);
  if (!err) err = register_object(fd, KvmObject{KvmObject::Kind::kGuestMemfd, shared_from_this(), {}, gmem});
  if (err) {
    close(fd);
    return err;
  }
  return fd;
}

long TdVm::set_memory_region(unsigned long request, unsigned long arg) {
  t::UserspaceMemoryRegion2 r{};
  if (request == KVM_SET_USER_MEMORY_REGION) {
    kvm_userspace_memory_region v1{};
    if (const int err = read_user(v1, arg)) return err;
    r.slot = v1.slot;
    r.flags = v1.flags;
    r.guest_phys_addr = v1.guest_phys_addr;
    r.memory_size = v1.memory_size;
    r.userspace_addr = v1.userspace_addr;
    if (r.flags & t::kMemGuestMemfd) return -EINVAL;  // only the v2 struct carries the fd
  } else if (const int err = read_user(r, arg)) {
    return err;
  }
  uint32_t valid = kKnownSlotFlags;
  if (r.flags & t::kMemGuestMemfd) valid &= ~KVM_MEM_LOG_DIRTY_PAGES;
  if (r.flags & ~valid) return -EINVAL;  // KVM_MEM_READONLY included: a TD has none
  if ((r.slot >> 16) != 0) return -EINVAL;  // a TD has one address space (no SMM)
  if ((r.slot & 0xffff) >= kMaxMemslots) return -EINVAL;
  if (!aligned(r.memory_size) || !aligned(r.guest_phys_addr) || !aligned(r.userspace_addr)) return -EINVAL;
  if (r.memory_size >> 12 > kMaxSlotPages) return -EINVAL;
  if (r.guest_phys_addr + r.memory_size < r.guest_phys_addr) return -EINVAL;
  if (r.userspace_addr + r.memory_size < r.userspace_addr) return -EINVAL;
  Memslot m{r.flags, r.guest_phys_addr, r.memory_size, r.userspace_addr, nullptr, r.guest_memfd_offset};
  if (r.memory_size && (r.flags & t::kMemGuestMemfd)) {
    auto obj = lookup(static_cast<int>(r.guest_memfd));
    if (!obj || obj->kind != KvmObject::Kind::kGuestMemfd || obj->gmem->vm != this) return -EINVAL;
    if (!aligned(r.guest_memfd_offset) || r.guest_memfd_offset > obj->gmem->size ||
        r.memory_size > obj->gmem->size - r.guest_memfd_offset)
      return -EINVAL;
    m.gmem = obj->gmem;
  }
  return set_memslot(r.slot, m);
}

long TdVm::set_memslot(uint32_t slot, const Memslot& m) {
  auto it = slots_.find(slot);
  if (m.size == 0) {  // delete
    if (it == slots_.end()) return 0;
    if (engine_) return unimplemented("VM", t::kKvmSetUserMemoryRegion2, EBUSY);
    slots_.erase(it);
    refresh_private_view();
    return 0;
  }
  if (it != slots_.end()) {
    const Memslot& o = it->second;
    const bool same = o.flags == m.flags && o.gpa == m.gpa && o.size == m.size && o.uaddr == m.uaddr &&
                      o.gmem == m.gmem && o.gmem_offset == m.gmem_offset;
    // Moving, resizing or re-flagging a TD's memslot is refused (private memory cannot move).
    return same ? 0 : -EINVAL;
  }
  for (const auto& [id, o] : slots_) {
    if (m.gpa < o.gpa + o.size && o.gpa < m.gpa + m.size) return -EEXIST;
    // kvm_gmem_bind: a guest_memfd range backs one memslot.
    if (m.gmem && o.gmem == m.gmem && m.gmem_offset < o.gmem_offset + o.size && o.gmem_offset < m.gmem_offset + m.size)
      return -EEXIST;
  }
  if (engine_) {
    // Memory added to a running TD: the engine maps it now, so it must exist now.
    if (m.uaddr && check_mapped(m.uaddr, m.size)) return -EFAULT;
    try {
      for (const GuestRange& g : pieces_of(m, m.gpa, m.gpa + m.size)) engine_->add_memory(g);
    } catch (const std::exception& e) {
      notice(fmt::format("KVM_SET_USER_MEMORY_REGION2: the engine refused the memory: {}", e.what()));
      return -EIO;
    }
  }
  slots_[slot] = m;
  refresh_private_view();
  return 0;
}

std::vector<GuestRange> TdVm::pieces_of(const Memslot& m, uint64_t lo, uint64_t hi) const {
  std::vector<GuestRange> out;
  lo = std::max(lo, m.gpa);
  hi = std::min(hi, m.gpa + m.size);
  auto emit = [&](uint64_t a, uint64_t b, bool priv) {
    if (a >= b) return;
    if (priv && m.gmem) out.push_back(GuestRange{a, b - a, m.gmem->map + m.gmem_offset + (a - m.gpa), false});
    if (!priv && m.uaddr) out.push_back(GuestRange{a, b - a, reinterpret_cast<uint8_t*>(m.uaddr) + (a - m.gpa), true});
  };
  uint64_t at = lo;
  for (const auto& [s, e] : private_) {
    if (e <= at) continue;
    if (s >= hi) break;
    emit(at, std::max(at, s), false);
    emit(std::max(at, s), std::min(e, hi), true);
    at = std::min(e, hi);
  }
  emit(at, hi, false);
  return out;
}

long TdVm::remap(uint64_t lo, uint64_t hi) {
  if (!engine_) return 0;
  try {
    for (const auto& [id, m] : slots_)
      if (m.gpa < hi && lo < m.gpa + m.size)
        for (const GuestRange& g : pieces_of(m, lo, hi)) engine_->set_memory(g);
  } catch (const std::exception& e) {
    notice(fmt::format("KVM_SET_MEMORY_ATTRIBUTES: the engine could not remap [{:#x}, {:#x}): {}", lo, hi, e.what()));
    return -EIO;
  }
  return 0;
}

void TdVm::refresh_private_view() {
  private_image_.regions.clear();
  std::vector<uint8_t*> hosts;
  for (const auto& [id, m] : slots_) {
    if (!m.gmem) continue;
    private_image_.regions.push_back(
        make_region(fmt::format("guest_memfd slot {}", id), RegionKind::kRam, m.gpa, m.size, {}, false, false));
    hosts.push_back(m.gmem->map + m.gmem_offset);
  }
  private_view_.rebind(private_image_, hosts);
}

long TdVm::set_memory_attributes(unsigned long arg) {
  t::MemoryAttributes a{};
  if (const int err = read_user(a, arg)) return err;
  if (a.flags || (a.attributes & ~t::kMemoryAttributePrivate)) return -EINVAL;
  if (a.size == 0 || !aligned(a.address) || !aligned(a.size) || a.address + a.size < a.address) return -EINVAL;
  const uint64_t start = a.address, end = a.address + a.size;
  // Cut [start, end) out of every private range, then add it back if it becomes private.
  std::map<uint64_t, uint64_t> next;
  for (const auto& [s, e] : private_) {
    if (e <= start || s >= end) {
      next[s] = e;
      continue;
    }
    if (s < start) next[s] = start;
    if (e > end) next[end] = e;
  }
  if (a.attributes & t::kMemoryAttributePrivate) {
    next[start] = end;
    // Merge neighbours so range_private() sees one range.
    std::map<uint64_t, uint64_t> merged;
    for (const auto& [s, e] : next) {
      if (!merged.empty() && std::prev(merged.end())->second >= s)
        std::prev(merged.end())->second = std::max(std::prev(merged.end())->second, e);
      else
        merged[s] = e;
    }
    next = std::move(merged);
  }
  private_ = std::move(next);
  // A conversion of a running TD: the guest now reaches the other pages there.
  return remap(start, end);
}

bool TdVm::range_private(uint64_t gpa, uint64_t size) const {
  auto it = private_.upper_bound(gpa);
  if (it == private_.begin()) return false;
  --it;
  return it->first <= gpa && gpa + size <= it->second;
}

long TdVm::memory_encrypt_op(unsigned long arg) {
  t::TdxCmd cmd{};
  if (const int err = read_user(cmd, arg)) return err;
  if (cmd.hw_error) return -EINVAL;
  long r;
  switch (cmd.id) {
    case t::kTdxCapabilities: r = cmd.flags ? -EINVAL : tdx_capabilities(cmd.data); break;
    case t::kTdxInitVm: r = cmd.flags ? -EINVAL : tdx_init_vm(cmd.data); break;
    case t::kTdxFinalizeVm: r = (cmd.flags || cmd.data) ? -EINVAL : tdx_finalize(); break;
    default: return -EINVAL;  // vCPU commands on the VM fd, unknown ids
  }
  // KVM copies the command back (hw_error = 0: no SEAMCALL failed).
  cmd.hw_error = 0;
  if (const int err = write_user(arg, cmd)) return err;
  return r;
}

long TdVm::tdx_capabilities(uint64_t data) {
  t::TdxCapabilitiesHeader h{};
  if (const int err = read_user(h, data)) return err;
  const auto entries = configurable_cpuid();
  if (h.cpuid.nent < entries.size()) return -E2BIG;
  h = t::TdxCapabilitiesHeader{};
  h.supported_attrs = kSupportedTdAttributes;
  h.supported_xfam = kSupportedXfam;
  h.user_tdvmcallinfo_1_r11 = kUserTdvmcallInfoR11;
  h.cpuid.nent = static_cast<uint32_t>(entries.size());
  if (const int err = copy_to_user(data + sizeof h, entries.data(), entries.size() * sizeof entries[0])) return err;
  return write_user(data, h);
}

long TdVm::tdx_init_vm(uint64_t data) {
  if (state_ != State::kCreated) return -EINVAL;
  t::TdxInitVmHeader h{};
  if (const int err = read_user(h, data)) return err;
  for (uint64_t r : h.reserved)
    if (r) return -EINVAL;
  if (h.cpuid.padding) return -EINVAL;
  if (h.cpuid.nent > kMaxCpuidEntries) return -E2BIG;
  std::vector<t::CpuidEntry2> entries(h.cpuid.nent);
  if (const int err = copy_from_user(entries.data(), data + sizeof h, entries.size() * sizeof(t::CpuidEntry2))) return err;
  if (h.attributes & ~kSupportedTdAttributes) return -EINVAL;
  // KVM takes XFAM from the CPUID list (leaf 0xD: XCR0 bits in subleaf 0, XSS bits in
  // subleaf 1) limited to what it supports, x87 and SSE always; the header's xfam is unused.
  uint64_t xfam = kRequiredXfam;
  const t::CpuidEntry2* sizes = nullptr;
  for (const auto& e : entries) {
    if (e.function == t::kCpuidLeafAddressSizes && e.index == 0) sizes = &e;
    if (e.function == 0xd && e.index == 0) xfam |= (e.eax | (uint64_t{e.edx} << 32)) & kSupportedXfam;
    if (e.function == 0xd && e.index == 1) xfam |= (e.ecx | (uint64_t{e.edx} << 32)) & kSupportedXfam;
  }
  if (!sizes) return -EINVAL;
  const uint32_t gpaw = gpaw_from_cpuid(sizes->eax);
  if (!gpaw) return -EINVAL;
  gpaw_ = gpaw;

  tdx::CpuidModel model = tdx::CpuidModel::default_for(gpaw);
  for (const auto& e : entries) {
    if (e.function == 0x21) continue;  // the TDX module's own leaf
    const bool indexed = e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    model.set(e.function, indexed ? e.index : tdx::CpuidModel::kAnySubleaf, {e.eax, e.ebx, e.ecx, e.edx});
  }
  td_cpuid_.clear();
  for (const auto& [key, v] : model.leaves) {
    t::CpuidEntry2 e{};
    const bool indexed = key.second != tdx::CpuidModel::kAnySubleaf;
    e.function = key.first;
    e.index = indexed ? key.second : 0;
    e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    e.eax = v.eax, e.ebx = v.ebx, e.ecx = v.ecx, e.edx = v.edx;
    td_cpuid_.push_back(e);
  }
  config_.attributes = h.attributes;
  config_.xfam = xfam;
  // TDH.MNG.INIT takes them verbatim; TDG.MR.REPORT reports them (tdx/tdreport.h).
  std::memcpy(config_.mrconfigid.data(), h.mrconfigid, sizeof h.mrconfigid);
  std::memcpy(config_.mrowner.data(), h.mrowner, sizeof h.mrowner);
  std::memcpy(config_.mrownerconfig.data(), h.mrownerconfig, sizeof h.mrownerconfig);
  config_.max_vcpus = max_vcpus_ ? max_vcpus_ : kMaxVcpus;
  config_.cpuid = std::move(model);

  build_ = std::make_unique<tdx::TdBuild>(private_view_);
  const tdx::SeamcallResult r = build_->mng_init(tdx::TdParams{h.attributes, xfam, gpaw, config_.max_vcpus});
  if (!r.ok()) {
    notice(fmt::format("KVM_TDX_INIT_VM: TDH.MNG.INIT failed: {}", r.why));
    build_.reset();
    return -EIO;
  }
  state_ = State::kInitialized;
  return 0;
}

long TdVm::add_private_page(uint64_t gpa, uint64_t source, bool measure) {
  uint8_t* page = private_view_.host_ptr(gpa, kPage);
  // kvm_gmem_populate: the page must be in a guest_memfd memslot and PRIVATE.
  if (!page || !range_private(gpa, kPage)) return -EINVAL;
  if (build_->page_present(gpa)) return -EEXIST;
  uint8_t bytes[kPage];
  if (const int err = copy_from_user(bytes, source, kPage)) return err;
  std::memcpy(page, bytes, kPage);
  tdx::SeamcallResult r = build_->page_add(gpa);
  for (uint64_t off = 0; r.ok() && measure && off < kPage; off += 256) r = build_->mr_extend(gpa + off);
  if (!r.ok()) {
    notice(fmt::format("KVM_TDX_INIT_MEM_REGION at GPA {:#x}: {}", gpa, r.why));
    return -EIO;
  }
  pages_.push_back(PageAdd{gpa, measure, nullptr});
  return 0;
}

long TdVm::tdx_finalize() {
  if (state_ != State::kInitialized) return -EINVAL;
  TdSetup setup;
  setup.gpaw = gpaw_;
  setup.nr_vcpus = static_cast<uint32_t>(vcpus_.size());
  setup.config = config_;
  setup.config.map_gpa_enabled = (exit_hypercalls_ & kExitHypercallValidMask) != 0;
  // KVM answers TDG.VP.VMCALL<Instruction.CPUID> from the vCPU's KVM_SET_CPUID2 table
  // (a VMM's hypervisor leaves are there): its entries override the INIT_VM list's. The
  // engine's module keeps one table for the TD: vCPU 0's.
  if (!vcpus_.empty()) {
    tdx::CpuidModel& vmm = *setup.config.cpuid;
    for (const auto& e : vcpus_.front()->cpuid())
      vmm.set(e.function, (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? e.index : tdx::CpuidModel::kAnySubleaf,
              {e.eax, e.ebx, e.ecx, e.edx});
  }
  setup.pages = pages_;
  for (const auto& v : vcpus_) setup.init_rcx.push_back(v->init_rcx());  // index order
  const ExecOptions& opts = exec_options();
  setup.max_insns = opts.max_insns;
  setup.trace.boot = opts.trace_boot;
  setup.trace.tdcall = opts.trace_tdcall;
  setup.trace.insn = opts.trace_insn;
  if (opts.trace_boot || opts.trace_tdcall || opts.trace_insn)
    setup.trace.sink = [](const std::string& line) { notice(escape_text(line)); };
  if (event_log_enabled()) setup.events = log_event;
  for (const auto& [id, m] : slots_) {
    if (m.uaddr && check_mapped(m.uaddr, m.size)) {
      notice(fmt::format("KVM_TDX_FINALIZE_VM: memslot {} userspace_addr {:#x} (+{:#x}) is not mapped", id, m.uaddr,
                         m.size));
      return -EFAULT;
    }
    for (const GuestRange& g : pieces_of(m, m.gpa, m.gpa + m.size)) setup.memory.push_back(g);
  }
  const tdx::SeamcallResult r = build_->mr_finalize();
  if (!r.ok()) {
    notice(fmt::format("KVM_TDX_FINALIZE_VM: TDH.MR.FINALIZE failed: {}", r.why));
    return -EIO;
  }
  state_ = State::kFinalized;
#ifdef TDSIM_UKVM_HAVE_ENGINE
  try {
    engine_ = TdEngine::create(std::move(setup));
  } catch (const std::exception& e) {
    notice(fmt::format("KVM_TDX_FINALIZE_VM: the engine could not build the TD: {}", e.what()));
    return -EIO;
  }
  attach_gdb_if_asked(*engine_);
#endif
  return 0;
}

}  // namespace tdsim::ukvm
