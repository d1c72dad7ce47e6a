#include "exception_record.h"

#include <cstdint>
#include <cstring>

#include "scratch_engine.h"
#include "uc_error.h"

namespace tdsim::sim {

namespace {

int32_t int_at(const uc_context* c, size_t off) {
  int32_t v = 0;
  std::memcpy(&v, reinterpret_cast<const char*>(c) + off, sizeof v);
  return v;
}

}  // namespace

std::optional<size_t> ExceptionRecord::offset() { return scratch_facts().exception_record_offset; }

ExceptionRecord::ExceptionRecord(uc_engine* uc) : uc_(uc) {
  const ScratchFacts& facts = scratch_facts();
  // The probe ran on a UC_MODE_32 engine; a context of this engine has the same layout
  // (one CPU state for every x86 mode) unless its size says otherwise.
  if (!facts.exception_record_offset || uc_context_size(uc_) != facts.context_size) return;
  off_ = facts.exception_record_offset;
  uc_check(uc_context_alloc(uc_, &ctx_), "uc_context_alloc(exception record)");
}

ExceptionRecord::~ExceptionRecord() {
  if (ctx_) uc_context_free(ctx_);
}

bool ExceptionRecord::clear() {
  const std::optional<size_t> off = off_;
  if (!off || !ctx_) return false;
  uc_check(uc_context_save(uc_, ctx_), "uc_context_save(exception record)");
  if (int_at(ctx_, *off) == -1) return true;  // nothing recorded: no restore needed
  const int32_t none = -1;
  std::memcpy(reinterpret_cast<char*>(ctx_) + *off, &none, sizeof none);
  uc_check(uc_context_restore(uc_, ctx_), "uc_context_restore(exception record)");
  return true;
}

}  // namespace tdsim::sim
