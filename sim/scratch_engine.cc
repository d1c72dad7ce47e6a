#include "scratch_engine.h"

#include <cstdint>
#include <cstring>
#include <memory>

#include "engine.h"
#include "uc_error.h"

namespace tdsim::sim {

namespace {

// The scratch engine's memory: page 0 holds the GDT, page 1 the probe's code.
constexpr uint64_t kGdtPage = 0, kProbePage = 0x1000;

// Scratch GDT: 0x08 flat 32-bit code (AR 0xC09B like the TD's CS), 0x10 flat data
// (AR 0xC093).
constexpr uint64_t kScratchGdt[3] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
constexpr uint16_t kScratchCs = 0x08, kScratchDs = 0x10;

// 32-bit code: xor ecx, ecx; div ecx; hlt. The HLT is never reached; it ends the
// translated block, which would otherwise run on over the zeros after the DIV (ADDs)
// to the end of the page: a 2,000-instruction translation for a two-instruction probe.
constexpr uint8_t kDivideByZero[] = {0x31, 0xc9, 0xf7, 0xf1, 0xf4};

struct EngineCloser {
  void operator()(uc_engine* uc) const { uc_close(uc); }
};
struct ContextFreer {
  void operator()(uc_context* c) const { uc_context_free(c); }
};
using ContextPtr = std::unique_ptr<uc_context, ContextFreer>;

ContextPtr alloc_context(uc_engine* uc, const char* call) {
  uc_context* c = nullptr;
  uc_check(uc_context_alloc(uc, &c), call);
  return ContextPtr(c);
}

void write_reg(uc_engine* uc, int reg, uint64_t value, const char* call) {
  uc_check(uc_reg_write(uc, reg, &value), call);
}

// MODE_32 loads each segment's descriptor cache from the GDT on a selector write (a
// MODE_64 engine stores only the selector: docs/engine-quirks.md).
ContextPtr save_flat32_context(uc_engine* uc) {
  uc_check(uc_mem_write(uc, kGdtPage, kScratchGdt, sizeof kScratchGdt), "uc_mem_write(scratch GDT)");
  uc_x86_mmr gdtr{0, kGdtPage, sizeof kScratchGdt - 1, 0};
  uc_check(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), "uc_reg_write(GDTR, scratch)");
  write_reg(uc, UC_X86_REG_CS, kScratchCs, "uc_reg_write(CS, scratch)");
  for (int seg : {UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_SS, UC_X86_REG_FS, UC_X86_REG_GS})
    write_reg(uc, seg, kScratchDs, "uc_reg_write(data segment, scratch)");
  ContextPtr ctx = alloc_context(uc, "uc_context_alloc(flat 32-bit state)");
  uc_check(uc_context_save(uc, ctx.get()), "uc_context_save(flat 32-bit state)");
  return ctx;
}

struct Probe {
  int vector = -1;
};

void probe_intr(uc_engine* uc, uint32_t intno, void* user) {
  static_cast<Probe*>(user)->vector = static_cast<int>(intno);
  uc_emu_stop(uc);
}

int32_t int_at(const uc_context* c, size_t off) {
  int32_t v = 0;
  std::memcpy(&v, reinterpret_cast<const char*>(c) + off, sizeof v);
  return v;
}

// Runs the #DE once: true when the hook saw vector 0.
bool take_divide_error(uc_engine* uc, Probe& p) {
  p.vector = -1;
  // EIP: a UC_MODE_32 engine refuses RIP (docs/engine-quirks.md).
  const uint32_t eip = kProbePage;
  if (uc_reg_write(uc, UC_X86_REG_EIP, &eip) != UC_ERR_OK) return false;
  if (uc_emu_start(uc, kProbePage, kProbePage + sizeof kDivideByZero, 0, 0) != UC_ERR_OK) return false;
  return p.vector == 0;
}

// A #DE the hook takes turns exactly one int of the saved context from -1 (no exception
// recorded) into 0 (#DE); clearing it and taking the #DE again must give a #DE (left at
// 0, QEMU would make it a #DF) that records 0 again. Any failure: nullopt, nothing is
// patched (exception_record.h).
std::optional<size_t> find_exception_record(uc_engine* uc, size_t size) {
  Probe p;
  uc_hook h = 0;
  if (uc_mem_write(uc, kProbePage, kDivideByZero, sizeof kDivideByZero) != UC_ERR_OK ||
      uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(probe_intr), &p, 1, 0) != UC_ERR_OK)
    return std::nullopt;
  uc_context *a_raw = nullptr, *b_raw = nullptr;
  if (uc_context_alloc(uc, &a_raw) != UC_ERR_OK) return std::nullopt;
  ContextPtr a(a_raw);
  if (uc_context_alloc(uc, &b_raw) != UC_ERR_OK) return std::nullopt;
  ContextPtr b(b_raw);
  if (uc_context_save(uc, a.get()) != UC_ERR_OK || !take_divide_error(uc, p) || uc_context_save(uc, b.get()) != UC_ERR_OK)
    return std::nullopt;
  std::optional<size_t> found;
  for (size_t off = 0; off + sizeof(int32_t) <= size; off += sizeof(int32_t)) {
    if (int_at(a.get(), off) != -1 || int_at(b.get(), off) != 0) continue;
    if (found) return std::nullopt;  // ambiguous
    found = off;
  }
  if (!found) return std::nullopt;
  const int32_t none = -1;
  std::memcpy(reinterpret_cast<char*>(b.get()) + *found, &none, sizeof none);
  if (uc_context_restore(uc, b.get()) != UC_ERR_OK || !take_divide_error(uc, p) ||
      uc_context_save(uc, b.get()) != UC_ERR_OK || int_at(b.get(), *found) != 0)
    return std::nullopt;
  return found;
}

struct OwnedFacts {
  ContextPtr flat32;
  ScratchFacts facts;
};

OwnedFacts learn() {
  std::unique_ptr<uc_engine, EngineCloser> uc(open_engine(UC_MODE_32));
  uc_check(uc_mem_map(uc.get(), kGdtPage, 0x2000, UC_PROT_ALL), "uc_mem_map(scratch GDT and probe pages)");
  OwnedFacts o;
  // First, before the probe runs anything: the context must be the untouched flat state.
  o.flat32 = save_flat32_context(uc.get());
  o.facts.flat32 = o.flat32.get();
  o.facts.context_size = uc_context_size(uc.get());
  o.facts.exception_record_offset = find_exception_record(uc.get(), o.facts.context_size);
  return o;
}

}  // namespace

const ScratchFacts& scratch_facts() {
  static const OwnedFacts owned = learn();
  return owned.facts;
}

}  // namespace tdsim::sim
