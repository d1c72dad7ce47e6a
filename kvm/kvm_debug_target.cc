#include "kvm_debug_target.h"

#include <fmt/format.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "diag/guest_view.h"
#include "diag/page_walk.h"
#include "kvm_sys.h"
#include "tdcall_emulation.h"

namespace tdsim::kvm {

namespace {

// A register's bytes, zero-extended to 16 (the widest: xmm).
using RegBuf = std::array<uint8_t, 16>;

template <class T>
void put(RegBuf& b, T v) {
  b.fill(0);
  std::memcpy(b.data(), &v, sizeof v);
}
template <class T>
T get(const RegBuf& b) {
  T v{};
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

struct CpuRegs {
  kvm_regs regs{};
  kvm_sregs sregs{};
  kvm_fpu fpu{};
};

CpuRegs read_all(const KvmVcpu& v) {
  CpuRegs c;
  checked_ioctl(v.fd(), KVM_GET_REGS, &c.regs, "KVM_GET_REGS");
  checked_ioctl(v.fd(), KVM_GET_SREGS, &c.sregs, "KVM_GET_SREGS");
  checked_ioctl(v.fd(), KVM_GET_FPU, &c.fpu, "KVM_GET_FPU");
  return c;
}

__u64* general(kvm_regs& r, std::string_view name) {
  struct Entry {
    const char* name;
    __u64 kvm_regs::*field;
  };
  static constexpr Entry kGeneral[] = {
      {"rax", &kvm_regs::rax}, {"rbx", &kvm_regs::rbx}, {"rcx", &kvm_regs::rcx}, {"rdx", &kvm_regs::rdx},
      {"rsi", &kvm_regs::rsi}, {"rdi", &kvm_regs::rdi}, {"rbp", &kvm_regs::rbp}, {"rsp", &kvm_regs::rsp},
      {"r8", &kvm_regs::r8},   {"r9", &kvm_regs::r9},   {"r10", &kvm_regs::r10}, {"r11", &kvm_regs::r11},
      {"r12", &kvm_regs::r12}, {"r13", &kvm_regs::r13}, {"r14", &kvm_regs::r14}, {"r15", &kvm_regs::r15},
      {"rip", &kvm_regs::rip}};
  for (const Entry& e : kGeneral)
    if (name == e.name) return &(r.*(e.field));
  return nullptr;
}

kvm_segment* segment(kvm_sregs& s, std::string_view name) {
  if (name == "cs") return &s.cs;
  if (name == "ss") return &s.ss;
  if (name == "ds") return &s.ds;
  if (name == "es") return &s.es;
  if (name == "fs") return &s.fs;
  if (name == "gs") return &s.gs;
  return nullptr;
}

// FXSAVE keeps one "valid" bit per physical x87 register; gdb wants the full tag word
// (0 valid, 1 zero, 2 special, 3 empty) indexed by physical register.
uint16_t full_tag_word(const kvm_fpu& f) {
  const unsigned top = (f.fsw >> 11) & 7;
  uint16_t tags = 0;
  for (unsigned phys = 0; phys < 8; ++phys) {
    unsigned tag = 3;
    if (f.ftwx & (1u << phys)) {
      const uint8_t* v = f.fpr[(phys - top) & 7];
      uint64_t mant = 0;
      uint16_t exp = 0;
      std::memcpy(&mant, v, 8);
      std::memcpy(&exp, v + 8, 2);
      exp &= 0x7fff;
      if (exp == 0 && mant == 0)
        tag = 1;
      else if (exp == 0 || exp == 0x7fff || !(mant >> 63))
        tag = 2;
      else
        tag = 0;
    }
    tags |= static_cast<uint16_t>(tag << (2 * phys));
  }
  return tags;
}

uint8_t abridged_tags(uint16_t full) {
  uint8_t out = 0;
  for (unsigned phys = 0; phys < 8; ++phys)
    if (((full >> (2 * phys)) & 3) != 3) out |= static_cast<uint8_t>(1u << phys);
  return out;
}

// Reads `name` from `c` into `b`; false for a name this facet does not serve.
bool load(CpuRegs& c, std::string_view name, RegBuf& b) {
  if (__u64* g = general(c.regs, name)) return put(b, static_cast<uint64_t>(*g)), true;
  if (name == "eflags") return put(b, static_cast<uint32_t>(c.regs.rflags)), true;
  if (kvm_segment* s = segment(c.sregs, name)) return put(b, static_cast<uint32_t>(s->selector)), true;
  if (name == "fs_base") return put(b, c.sregs.fs.base), true;
  if (name == "gs_base") return put(b, c.sregs.gs.base), true;
  if (name == "cr0") return put(b, c.sregs.cr0), true;
  if (name == "cr2") return put(b, c.sregs.cr2), true;
  if (name == "cr3") return put(b, c.sregs.cr3), true;
  if (name == "cr4") return put(b, c.sregs.cr4), true;
  if (name == "efer") return put(b, c.sregs.efer), true;
  if (name == "gdtr_base") return put(b, c.sregs.gdt.base), true;
  if (name == "gdtr_limit") return put(b, static_cast<uint32_t>(c.sregs.gdt.limit)), true;
  if (name == "idtr_base") return put(b, c.sregs.idt.base), true;
  if (name == "idtr_limit") return put(b, static_cast<uint32_t>(c.sregs.idt.limit)), true;
  if (name.size() == 3 && name.substr(0, 2) == "st" && name[2] >= '0' && name[2] <= '7') {
    b.fill(0);
    std::memcpy(b.data(), c.fpu.fpr[name[2] - '0'], 10);
    return true;
  }
  if (name == "fctrl") return put(b, static_cast<uint32_t>(c.fpu.fcw)), true;
  if (name == "fstat") return put(b, static_cast<uint32_t>(c.fpu.fsw)), true;
  if (name == "ftag") return put(b, static_cast<uint32_t>(full_tag_word(c.fpu))), true;
  if (name == "fiseg" || name == "foseg") return put(b, uint32_t{0}), true;  // 64-bit FXSAVE has none
  if (name == "fioff") return put(b, static_cast<uint32_t>(c.fpu.last_ip)), true;
  if (name == "fooff") return put(b, static_cast<uint32_t>(c.fpu.last_dp)), true;
  if (name == "fop") return put(b, static_cast<uint32_t>(c.fpu.last_opcode)), true;
  if (name == "mxcsr") return put(b, c.fpu.mxcsr), true;
  if (name.substr(0, 3) == "xmm") {
    unsigned i = 0;
    for (char ch : name.substr(3)) i = i * 10 + static_cast<unsigned>(ch - '0');
    if (i >= 16) return false;
    std::memcpy(b.data(), c.fpu.xmm[i], 16);
    return true;
  }
  return false;
}

// Stores `b` into `name` of `c`; which of regs / sregs / fpu changed is returned.
enum class Part { kNone, kRegs, kSregs, kFpu };
Part store(CpuRegs& c, std::string_view name, const RegBuf& b) {
  if (__u64* g = general(c.regs, name)) return *g = get<uint64_t>(b), Part::kRegs;
  if (name == "eflags") {
    c.regs.rflags = (c.regs.rflags & ~0xffffffffull) | get<uint32_t>(b);
    return Part::kRegs;
  }
  if (name == "fs_base") return c.sregs.fs.base = get<uint64_t>(b), Part::kSregs;
  if (name == "gs_base") return c.sregs.gs.base = get<uint64_t>(b), Part::kSregs;
  if (name == "cr2") return c.sregs.cr2 = get<uint64_t>(b), Part::kSregs;
  if (name.size() == 3 && name.substr(0, 2) == "st" && name[2] >= '0' && name[2] <= '7') {
    std::memcpy(c.fpu.fpr[name[2] - '0'], b.data(), 10);
    return Part::kFpu;
  }
  if (name == "fctrl") return c.fpu.fcw = static_cast<uint16_t>(get<uint32_t>(b)), Part::kFpu;
  if (name == "fstat") return c.fpu.fsw = static_cast<uint16_t>(get<uint32_t>(b)), Part::kFpu;
  if (name == "ftag") return c.fpu.ftwx = abridged_tags(static_cast<uint16_t>(get<uint32_t>(b))), Part::kFpu;
  if (name == "mxcsr") return c.fpu.mxcsr = get<uint32_t>(b), Part::kFpu;
  if (name.substr(0, 3) == "xmm") {
    unsigned i = 0;
    for (char ch : name.substr(3)) i = i * 10 + static_cast<unsigned>(ch - '0');
    if (i >= 16) return Part::kNone;
    std::memcpy(c.fpu.xmm[i], b.data(), 16);
    return Part::kFpu;
  }
  return Part::kNone;
}

}  // namespace

KvmDebugTarget::KvmDebugTarget(PlainMachine& machine) : m_(machine), state_(machine.vcpus().size()) {
  m_.set_tdcall_observer([this](const std::string& line) {
    tdcalls_.push_back(line);
    if (tdcalls_.size() > kTdcallLogLines) tdcalls_.pop_front();
  });
}

bool KvmDebugTarget::read_register(uint32_t vcpu, unsigned reg, std::span<uint8_t> out) {
  const auto file = x86_register_file();
  if (vcpu >= nr_vcpus() || reg >= file.size() || out.size() != file[reg].size) return false;
  CpuRegs c = read_all(*m_.vcpus()[vcpu]);
  RegBuf b{};
  if (!load(c, file[reg].name, b)) return false;
  std::memcpy(out.data(), b.data(), out.size());
  return true;
}

bool KvmDebugTarget::write_register(uint32_t vcpu, unsigned reg, std::span<const uint8_t> in) {
  const auto file = x86_register_file();
  if (vcpu >= nr_vcpus() || reg >= file.size() || in.size() != file[reg].size) return false;
  const KvmVcpu& v = *m_.vcpus()[vcpu];
  CpuRegs c = read_all(v);
  RegBuf cur{};
  if (!load(c, file[reg].name, cur)) return false;
  // Read-only registers accept only their current value.
  if (!file[reg].writable) return std::memcmp(cur.data(), in.data(), in.size()) == 0;
  std::memcpy(cur.data(), in.data(), in.size());  // bytes past the width stay as they were
  switch (store(c, file[reg].name, cur)) {
    case Part::kRegs: checked_ioctl(v.fd(), KVM_SET_REGS, &c.regs, "KVM_SET_REGS"); return true;
    case Part::kSregs: checked_ioctl(v.fd(), KVM_SET_SREGS, &c.sregs, "KVM_SET_SREGS"); return true;
    case Part::kFpu: checked_ioctl(v.fd(), KVM_SET_FPU, &c.fpu, "KVM_SET_FPU"); return true;
    case Part::kNone: return false;
  }
  return false;
}

std::optional<uint64_t> KvmDebugTarget::translate(uint32_t vcpu, uint64_t gva) const {
  kvm_sregs s{};
  checked_ioctl(m_.vcpus()[vcpu]->fd(), KVM_GET_SREGS, &s, "KVM_GET_SREGS");
  if (!(s.cr0 & (1ull << 31))) return gva & 0xffffffffull;  // paging off: linear is physical
  // A debugger reads and writes past page protection (a breakpoint into code): a read's walk.
  const diag::WalkResult r =
      diag::page_walk(memory(), diag::walk_params(image(), s.cr3, gva, diag::Access::kRead, s.cr0, s.cr4));
  if (r.verdict != diag::WalkVerdict::kMapped && r.verdict != diag::WalkVerdict::kWriteProtected &&
      r.verdict != diag::WalkVerdict::kNoExecute)
    return std::nullopt;
  return r.gpa & ~image().shared_bit;
}

uint64_t KvmDebugTarget::read_memory(uint32_t vcpu, uint64_t gva, void* dst, uint64_t len) {
  if (vcpu >= nr_vcpus()) return 0;
  return read_by_page(memory(), [&](uint64_t a) { return translate(vcpu, a); }, gva, dst, len);
}

bool KvmDebugTarget::write_memory(uint32_t vcpu, uint64_t gva, const void* src, uint64_t len) {
  if (vcpu >= nr_vcpus()) return false;
  const auto pieces = pieces_by_page(memory(), [&](uint64_t a) { return translate(vcpu, a); }, gva, len);
  if (!pieces) return false;
  // KVM runs guest code from this memory: the next instruction sees the write.
  const auto* in = static_cast<const uint8_t*>(src);
  for (const auto& [gpa, n] : *pieces) {
    if (!m_.memory().write(gpa, in, n)) return false;
    in += n;
  }
  return true;
}

bool KvmDebugTarget::add_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) {
  if (watchpoints_.size() >= kMaxWatchpoints || len == 0 || len > kMaxWatchBytes || gva + len < gva) return false;
  watchpoints_.push_back(Watch{kind, gva, len});
  return true;
}

bool KvmDebugTarget::remove_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) {
  for (auto it = watchpoints_.begin(); it != watchpoints_.end(); ++it)
    if (it->kind == kind && it->gva == gva && it->len == len) {
      watchpoints_.erase(it);
      return true;
    }
  return false;
}

void KvmDebugTarget::clear_breakpoints_and_watchpoints() {
  breakpoints_.clear();
  watchpoints_.clear();
}

void KvmDebugTarget::arm_single_step(uint32_t vcpu) {
  kvm_guest_debug dbg{};
  dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
  checked_ioctl(m_.vcpus()[vcpu]->fd(), KVM_SET_GUEST_DEBUG, &dbg, "KVM_SET_GUEST_DEBUG");
}

std::optional<DebugStop> KvmDebugTarget::Pending::hit(const std::vector<diag::MemoryAccess>& accesses,
                                                      const std::vector<Watch>& watches,
                                                      const std::vector<std::vector<uint8_t>>& after) const {
  for (size_t i = 0; i < watches.size(); ++i) {
    const Watch& w = watches[i];
    bool fired = false;
    for (const diag::MemoryAccess& a : accesses) {
      const bool overlaps = a.la < w.gva + w.len && w.gva < a.la + a.len;
      if (!overlaps) continue;
      fired |= (w.kind == WatchKind::kWrite && a.write) || (w.kind == WatchKind::kRead && a.read) ||
               (w.kind == WatchKind::kAccess && (a.read || a.write));
    }
    // A store the decoder does not list (string instructions) still changes the bytes.
    if (w.kind != WatchKind::kRead && i < before.size() && i < after.size() && before[i] != after[i]) fired = true;
    if (fired) return DebugStop{DebugStop::Kind::kWatchpoint, w.kind, w.gva};
  }
  return std::nullopt;
}

KvmDebugTarget::Pending KvmDebugTarget::prepare(uint32_t vcpu) {
  Pending p;
  const KvmVcpu& v = *m_.vcpus()[vcpu];
  kvm_regs r{};
  kvm_sregs sr{};
  checked_ioctl(v.fd(), KVM_GET_REGS, &r, "KVM_GET_REGS");
  checked_ioctl(v.fd(), KVM_GET_SREGS, &sr, "KVM_GET_SREGS");
  diag::AccessRegs regs;
  const __u64 gprs[16] = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                          r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  for (int i = 0; i < 16; ++i) regs.gpr[i] = gprs[i];
  regs.rip = r.rip;
  regs.fs_base = sr.fs.base;
  regs.gs_base = sr.gs.base;
  const bool long64 = sr.cs.l && (sr.efer & (1ull << 10));
  uint8_t bytes[15] = {};
  const uint64_t n = read_memory(vcpu, r.rip, bytes, sizeof bytes);
  p.accesses = diag::memory_accesses(std::span<const uint8_t>(bytes, n),
                                     long64 ? diag::CpuMode::k64 : diag::CpuMode::k32, regs);
  p.before = snapshot(vcpu);
  return p;
}

std::vector<std::vector<uint8_t>> KvmDebugTarget::snapshot(uint32_t vcpu) {
  std::vector<std::vector<uint8_t>> out;
  for (const Watch& w : watchpoints_) {
    std::vector<uint8_t> b(w.len);
    b.resize(read_memory(vcpu, w.gva, b.data(), w.len));
    out.push_back(std::move(b));
  }
  return out;
}

uint64_t KvmDebugTarget::rip(uint32_t vcpu) const {
  kvm_regs r{};
  checked_ioctl(m_.vcpus()[vcpu]->fd(), KVM_GET_REGS, &r, "KVM_GET_REGS");
  return r.rip;
}

DebugStop KvmDebugTarget::run(uint32_t vcpu, uint64_t max_insns, bool stop_at_breakpoints, const EventSink& sink) {
  VcpuState& st = state_.at(vcpu);
  if (st.ended) return {DebugStop::Kind::kEnded};
  KvmVcpu& v = *m_.vcpus()[vcpu];
  arm_single_step(vcpu);
  const Emit emit = [&](const Event& e) {
    sink(e);
    return is_terminal(e);
  };
  for (uint64_t n = 0; n < max_insns;) {
    if (stop_at_breakpoints && !breakpoints_.empty() && breakpoints_.count(rip(vcpu)))
      return {DebugStop::Kind::kBreakpoint};
    // Watchpoints: which memory the next instruction touches, decoded before it runs.
    std::optional<Pending> pending;
    if (!watchpoints_.empty()) pending = prepare(vcpu);
    if (::ioctl(v.fd(), KVM_RUN, 0) < 0) {
      const int err = errno;
      if (err == EINTR || err == EAGAIN) continue;
      st.ended = true;
      emit(FaultEvent{vcpu, rip(vcpu), -1, 0, false, std::string("KVM_RUN: ") + std::strerror(err)});
      return {DebugStop::Kind::kEnded};
    }
    const kvm_run& run = *v.run();
    if (run.exit_reason == KVM_EXIT_DEBUG) {
      ++n;
      ++st.executed;
      if (pending)
        if (const auto stop = pending->hit(pending->accesses, watchpoints_, snapshot(vcpu))) return *stop;
      continue;
    }
    // Any other exit is the machine's, as in a run: MMIO, port I/O, TDCALL, HLT, ...
    // An emulated TDCALL completes without a debug exit; it counts as one instruction.
    const bool tdcall = is_tdcall_emulation_failure(run);
    const bool go_on = m_.handle_exit(v, vcpu, emit);
    if (tdcall) {
      ++n;
      ++st.executed;
    }
    if (pending && go_on)
      if (const auto stop = pending->hit(pending->accesses, watchpoints_, snapshot(vcpu))) return *stop;
    if (!go_on) {
      st.ended = true;
      return {DebugStop::Kind::kEnded};
    }
  }
  return {DebugStop::Kind::kExhausted};
}

std::vector<std::string> KvmDebugTarget::describe_position(uint32_t vcpu) const {
  const uint64_t r = rip(vcpu);
  const Symbol* s = image().symbol_for(r);
  const std::string where = !s ? "" : r == s->addr ? fmt::format(" <{}>", s->name)
                                                   : fmt::format(" <{}+{:#x}>", s->name, r - s->addr);
  return {fmt::format("vCPU {} still running at RIP {:#x}{}", vcpu, r, where)};
}

std::vector<std::string> KvmDebugTarget::tdcall_log(size_t max) const {
  const size_t n = std::min(max, tdcalls_.size());
  return {tdcalls_.end() - static_cast<long>(n), tdcalls_.end()};
}

}  // namespace tdsim::kvm
