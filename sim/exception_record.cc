#include "exception_record.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "engine.h"
#include "uc_error.h"

namespace tdsim::sim {

namespace {

constexpr uint64_t kProbePage = 0x1000;
constexpr uint8_t kDivideByZero[] = {0x31, 0xc9, 0xf7, 0xf1};  // xor ecx, ecx; div ecx

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

struct EngineCloser {
  void operator()(uc_engine* uc) const { uc_close(uc); }
};
struct ContextFreer {
  void operator()(uc_context* c) const { uc_context_free(c); }
};

// Runs the #DE once: true when the hook saw vector 0.
bool take_divide_error(uc_engine* uc, Probe& p) {
  p.vector = -1;
  const uint64_t rip = kProbePage;
  if (uc_reg_write(uc, UC_X86_REG_RIP, &rip) != UC_ERR_OK) return false;
  if (uc_emu_start(uc, kProbePage, kProbePage + sizeof kDivideByZero, 0, 0) != UC_ERR_OK) return false;
  return p.vector == 0;
}

std::optional<size_t> find_offset() {
  std::unique_ptr<uc_engine, EngineCloser> uc(open_engine(UC_MODE_64));
  Probe p;
  uc_hook h = 0;
  if (uc_mem_map(uc.get(), kProbePage, 0x1000, UC_PROT_ALL) != UC_ERR_OK ||
      uc_mem_write(uc.get(), kProbePage, kDivideByZero, sizeof kDivideByZero) != UC_ERR_OK ||
      uc_hook_add(uc.get(), &h, UC_HOOK_INTR, reinterpret_cast<void*>(probe_intr), &p, 1, 0) != UC_ERR_OK)
    return std::nullopt;
  uc_context *a_raw = nullptr, *b_raw = nullptr;
  if (uc_context_alloc(uc.get(), &a_raw) != UC_ERR_OK) return std::nullopt;
  std::unique_ptr<uc_context, ContextFreer> a(a_raw);
  if (uc_context_alloc(uc.get(), &b_raw) != UC_ERR_OK) return std::nullopt;
  std::unique_ptr<uc_context, ContextFreer> b(b_raw);
  const size_t size = uc_context_size(uc.get());
  if (uc_context_save(uc.get(), a.get()) != UC_ERR_OK || !take_divide_error(uc.get(), p) ||
      uc_context_save(uc.get(), b.get()) != UC_ERR_OK)
    return std::nullopt;
  // The record: -1 (none) before, 0 (#DE) after, and the only int that changed so.
  std::optional<size_t> found;
  for (size_t off = 0; off + sizeof(int32_t) <= size; off += sizeof(int32_t)) {
    if (int_at(a.get(), off) != -1 || int_at(b.get(), off) != 0) continue;
    if (found) return std::nullopt;  // ambiguous
    found = off;
  }
  if (!found) return std::nullopt;
  // Check: with the record cleared, the same #DE is taken again as a #DE (with it left
  // at 0, QEMU makes it a #DF), and the record reads 0 again afterwards.
  const int32_t none = -1;
  std::memcpy(reinterpret_cast<char*>(b.get()) + *found, &none, sizeof none);
  if (uc_context_restore(uc.get(), b.get()) != UC_ERR_OK || !take_divide_error(uc.get(), p) ||
      uc_context_save(uc.get(), b.get()) != UC_ERR_OK || int_at(b.get(), *found) != 0)
    return std::nullopt;
  return found;
}

}  // namespace

std::optional<size_t> ExceptionRecord::offset() {
  static const std::optional<size_t> off = find_offset();
  return off;
}

ExceptionRecord::ExceptionRecord(uc_engine* uc) : uc_(uc) {
  if (!offset()) return;
  uc_check(uc_context_alloc(uc_, &ctx_), "uc_context_alloc(exception record)");
}

ExceptionRecord::~ExceptionRecord() {
  if (ctx_) uc_context_free(ctx_);
}

bool ExceptionRecord::clear() {
  const std::optional<size_t> off = offset();
  if (!off || !ctx_) return false;
  uc_check(uc_context_save(uc_, ctx_), "uc_context_save(exception record)");
  if (int_at(ctx_, *off) == -1) return true;  // nothing recorded: no restore needed
  const int32_t none = -1;
  std::memcpy(reinterpret_cast<char*>(ctx_) + *off, &none, sizeof none);
  uc_check(uc_context_restore(uc_, ctx_), "uc_context_restore(exception record)");
  return true;
}

}  // namespace tdsim::sim
