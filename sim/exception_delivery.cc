#include "exception_delivery.h"

#include <fmt/format.h>

#include "diag/x86_decode.h"
#include "engine.h"
#include "uc_error.h"
#include "guest_virtual.h"

namespace tdsim::sim {

namespace {

constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kCr0Pe = 1, kCr0Pg = 1ull << 31;
constexpr uint64_t kRflagsTf = 1ull << 8, kRflagsIf = 1ull << 9, kRflagsNt = 1ull << 14,
                   kRflagsRf = 1ull << 16, kRflagsVm = 1ull << 17;
constexpr int kDf = 8, kNp = 11, kGp = 13, kPf = 14;
constexpr int kMaxChain = 4;

enum class Class { kBenign, kContributory, kPageFault, kDoubleFault };

Class class_of(int v) {
  switch (v) {
    case 0: case 10: case 11: case 12: case 13: return Class::kContributory;
    case kPf: return Class::kPageFault;
    case kDf: return Class::kDoubleFault;
    default: return Class::kBenign;
  }
}

uint64_t reg(uc_engine* uc, int id) {
  uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

// One failure while delivering: the exception the CPU raises instead (or, with
// not_modelled, a delivery the engine cannot carry out).
struct Failure {
  RaisedException raised;
  std::string why;
  bool not_modelled = false;
};

// An IDT error code: the gate's index, the IDT bit, EXT (the event came from outside
// the instruction stream: delivery of an exception).
uint32_t idt_error(int vector) { return static_cast<uint32_t>(vector) << 3 | 2 | 1; }

class Deliverer {
 public:
  Deliverer(uc_engine* uc, GuestMemory& mem) : uc_(uc), mem_(mem) {}

  // nullopt: delivered; else the exception raised while trying.
  std::optional<Failure> deliver(const RaisedException& e) {
    uc_x86_mmr idtr{};
    uc_reg_read(uc_, UC_X86_REG_IDTR, &idtr);
    uc_x86_msr efer{0xc0000080, 0};
    uc_reg_read(uc_, UC_X86_REG_MSR, &efer);
    const bool ia32e = efer.value & kEferLma;
    if (!(reg(uc_, UC_X86_REG_CR0) & kCr0Pe))
      return Failure{{kGp, 0}, "real-mode delivery is not modelled (a TD never runs in real mode)"};
    const uint64_t gate_size = ia32e ? 16 : 8;
    const uint64_t off = static_cast<uint64_t>(e.vector) * gate_size;
    if (off + gate_size - 1 > idtr.limit)
      return Failure{{kGp, idt_error(e.vector)},
                     fmt::format("IDT limit {:#x} does not reach gate {} (IDTR base {:#x})", idtr.limit, e.vector,
                                 idtr.base)};
    uint64_t gate[2] = {};
    if (!read_gva(uc_, mem_, idtr.base + off, gate, gate_size))
      return page_fault(idtr.base + off, false, fmt::format("IDT gate {} at {:#x} is not mapped", e.vector, idtr.base + off));
    const unsigned type = (gate[0] >> 40) & 0xf;
    const bool present = (gate[0] >> 47) & 1;
    // 64-bit gates in IA-32e mode, 32-bit gates in protected mode (16-bit gates and task
    // gates are not modelled: no TD boot path uses them).
    if (type != 0xe && type != 0xf)
      return Failure{{kGp, idt_error(e.vector)},
                     fmt::format("IDT gate {} has type {:#x}, not a {}-bit interrupt or trap gate", e.vector, type,
                                 ia32e ? 64 : 32)};
    if (!present) return Failure{{kNp, idt_error(e.vector)}, fmt::format("IDT gate {} is not present", e.vector)};
    const uint16_t selector = static_cast<uint16_t>(gate[0] >> 16);
    const uint64_t cs = reg(uc_, UC_X86_REG_CS);
    std::optional<FarTarget> far;
    if (selector != cs) {
      // The engine's API cannot load a code-segment cache; a far jump can, where linear
      // addresses are physical (the stub's 32-bit phase, the only place a TD switches CS
      // on delivery). The descriptor checks come first, as on the CPU, so a bad gate
      // selector raises its fault before anything is pushed.
      if (auto f = check_code_segment(e.vector, selector, ia32e)) return f;
      if (ia32e || (reg(uc_, UC_X86_REG_CR0) & kCr0Pg))
        return Failure{{e.vector, e.error_code},
                       fmt::format("gate {} switches CS from {:#x} to {:#x}, which this engine cannot load with "
                                   "paging on (it keeps the old code-segment cache)",
                                   e.vector, cs, selector),
                       true};
      far = FarTarget{selector, 0, code16(static_cast<uint16_t>(cs))};
    }
    uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull);
    if (ia32e) target |= gate[1] << 32;

    const uint64_t rip = reg(uc_, UC_X86_REG_RIP), rsp = reg(uc_, UC_X86_REG_RSP);
    const uint64_t rflags = reg(uc_, UC_X86_REG_RFLAGS);
    const uint64_t ss = reg(uc_, UC_X86_REG_SS);
    std::vector<uint64_t> frame;  // pushed in this order
    uint64_t sp;
    unsigned width;
    if (ia32e) {
      width = 8;
      sp = rsp;
      if (const unsigned ist = (gate[0] >> 32) & 7) {
        uc_x86_mmr tr{};
        uc_reg_read(uc_, UC_X86_REG_TR, &tr);
        if (!read_gva(uc_, mem_, tr.base + 0x24 + 8 * (ist - 1), &sp, 8))
          return page_fault(tr.base + 0x24 + 8 * (ist - 1), false, fmt::format("TSS IST{} slot is not mapped", ist));
      }
      sp &= ~0xfull;  // IA-32e aligns the new stack on 16 bytes
      frame = {ss, rsp, rflags, cs, rip};
    } else {
      width = 4;
      sp = rsp & 0xffffffff;  // flat 32-bit stack (the TD's segments have base 0)
      frame = {rflags & 0xffffffff, cs, rip & 0xffffffff};
    }
    if (e.error_code) frame.push_back(*e.error_code);
    for (uint64_t v : frame) {
      sp -= width;
      if (!ia32e) sp &= 0xffffffff;
      const auto gpa = translate_gva(uc_, mem_, sp, diag::Access::kWrite);
      if (!gpa || !mem_.write(*gpa, &v, width))
        return page_fault(sp, true, fmt::format("pushing the exception frame at {:#x} faults", sp));
    }
    uint64_t new_flags = rflags & ~(kRflagsTf | kRflagsNt | kRflagsRf | kRflagsVm);
    if (type == 0xe) new_flags &= ~kRflagsIf;  // interrupt gate; a trap gate keeps IF
    uc_check(uc_reg_write(uc_, UC_X86_REG_RSP, &sp), "uc_reg_write(RSP) delivering an exception");
    uc_check(uc_reg_write(uc_, UC_X86_REG_RFLAGS, &new_flags), "uc_reg_write(RFLAGS) delivering an exception");
    if (far) {
      far->offset = target;
      far_ = far;
      return std::nullopt;
    }
    uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &target), "uc_reg_write(RIP) delivering an exception");
    return std::nullopt;
  }

  // The far jump the last successful delivery still needs, if any.
  const std::optional<FarTarget>& far() const { return far_; }

 private:
  // The GDT descriptor of `selector`, read at its linear address, or nullopt.
  std::optional<uint64_t> gdt_descriptor(uint16_t selector) const {
    uc_x86_mmr gdtr{};
    uc_reg_read(uc_, UC_X86_REG_GDTR, &gdtr);
    const uint64_t off = selector & ~7u;
    if (off == 0 || (selector & 4) || off + 7 > gdtr.limit) return std::nullopt;
    uint64_t desc = 0;
    if (!read_gva(uc_, mem_, gdtr.base + off, &desc, sizeof desc)) return std::nullopt;
    return desc;
  }

  // The checks the CPU makes on a gate's code segment before it pushes the frame
  // (SDM vol. 3 §6.12.1, §6.14.1): a null, LDT or out-of-GDT selector, a non-code or
  // DPL > 0 descriptor, or in IA-32e mode one that is not 64-bit code (L=1, D=0), is
  // #GP(selector), a non-present one #NP(selector), EXT set. The GDT is read at its
  // linear address, which is physical only with paging off: with paging on an
  // unreadable entry is read through the page tables like the IDT.
  std::optional<Failure> check_code_segment(int vector, uint16_t selector, bool ia32e) const {
    const uint32_t err = (selector & 0xfffcu) | 1u;
    if ((selector & ~3u) == 0)
      return Failure{{kGp, 1u}, fmt::format("IDT gate {} names the null code selector", vector)};
    if (selector & 4)
      return Failure{{vector, std::nullopt}, fmt::format("IDT gate {} names LDT selector {:#x}; LDTs are not modelled", vector, selector), true};
    const auto desc = gdt_descriptor(selector);
    if (!desc)
      return Failure{{kGp, err}, fmt::format("IDT gate {} names selector {:#x}, beyond the GDT or unreadable", vector, selector)};
    const bool code = ((*desc >> 44) & 1) && ((*desc >> 43) & 1);
    const unsigned dpl = (*desc >> 45) & 3;
    if (!code || dpl != 0)
      return Failure{{kGp, err}, fmt::format("IDT gate {} names selector {:#x}, which is not a ring-0 code segment (descriptor {:#018x})", vector, selector, *desc)};
    if (ia32e && (!((*desc >> 53) & 1) || ((*desc >> 54) & 1)))
      return Failure{{kGp, err}, fmt::format("IDT gate {} names selector {:#x}, which is not a 64-bit code segment (descriptor {:#018x})", vector, selector, *desc)};
    if (!((*desc >> 47) & 1))
      return Failure{{kNp, err}, fmt::format("IDT gate {} names selector {:#x}, whose code segment is not present", vector, selector)};
    return std::nullopt;
  }

  // Whether the code running now is 16-bit: selector 0 is the TD's flat 32-bit reset CS;
  // otherwise the D bit of the descriptor the selector names (far_jump checks where it
  // landed, so a GDT changed since CS was loaded cannot make it jump wrongly unnoticed).
  bool code16(uint16_t cs) const {
    const auto desc = gdt_descriptor(cs);
    return desc && !((*desc >> 54) & 1);
  }

  Failure page_fault(uint64_t linear, bool write, std::string why) {
    write_cr2(uc_, linear);
    return Failure{{kPf, write ? 2u : 0u}, std::move(why)};
  }

  uc_engine* uc_;
  GuestMemory& mem_;
  std::optional<FarTarget> far_;
};

}  // namespace

Delivery deliver_exception(uc_engine* uc, GuestMemory& mem, RaisedException first) {
  Delivery d;
  d.chain.push_back(first);
  Deliverer del(uc, mem);
  RaisedException current = first;
  for (int step = 0; step < kMaxChain; ++step) {
    std::optional<Failure> f = del.deliver(current);
    if (!f) {
      d.delivered = true;
      d.far = del.far();
      return d;
    }
    d.why = f->why;
    if (f->not_modelled) {
      d.not_modelled = true;
      return d;
    }
    const Class a = class_of(current.vector), b = class_of(f->raised.vector);
    if (a == Class::kDoubleFault) return d;  // a fault while delivering #DF: shutdown
    RaisedException next = f->raised;
    const bool df = (a == Class::kContributory && b == Class::kContributory) ||
                    (a == Class::kPageFault && (b == Class::kContributory || b == Class::kPageFault));
    if (df) next = RaisedException{kDf, 0};
    d.chain.push_back(next);
    current = next;
  }
  d.why += "; nested exceptions did not settle";
  return d;
}

std::string describe_chain(const Delivery& d) {
  std::string s;
  for (const RaisedException& e : d.chain) {
    if (!s.empty()) s += " -> ";
    s += diag::vector_name(e.vector);
    if (e.error_code) s += fmt::format("({:#x})", *e.error_code);
  }
  if (d.not_modelled)
    s += " (not delivered)";
  else if (!d.delivered)
    s += " -> shutdown (triple fault)";
  return s;
}

}  // namespace tdsim::sim
