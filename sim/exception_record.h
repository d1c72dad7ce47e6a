// QEMU's record of the last exception, inside Unicorn, cleared where tdsim takes over.
//
// QEMU escalates a contributory exception (#DE, #TS, #NP, #SS, #GP) that follows another
// one, or a #PF, to #DF, and anything after a #DF to a triple fault, until it has
// delivered an exception itself, which clears the record. Under Unicorn it never
// delivers: the interrupt hook takes every exception and tdsim vectors it through the
// guest IDT (exception_delivery.h), which QEMU does not see. So the record is never
// cleared: a guest's second #GP arrived as #DF and the third ended uc_emu_start with no
// hook called (QEMU's triple fault) (docs/engine-quirks.md). Engines opened with an
// `until` address also left a #PF there at every start (engine.cc no longer uses one).
//
// The API has no register for it, so it is reached through a saved CPU context: the
// record's offset in the context is found once per process on the scratch engine
// (scratch_engine.h: a #DE the hook takes turns exactly one int from -1 into 0) and
// checked by clearing it and taking the #DE again. Where that fails (another Unicorn
// build) nothing is patched and offset() says so; the quirk then stays as documented.
#pragma once
#include <unicorn/unicorn.h>

#include <cstddef>
#include <optional>

namespace tdsim::sim {

class ExceptionRecord {
 public:
  // The record's byte offset in a uc_context of an x86 engine, or nullopt where the
  // probe could not find it unambiguously. Computed once per process; thread-safe.
  // Throws BackendError if the scratch engine cannot be made.
  static std::optional<size_t> offset();

  // `uc` must outlive this object. Throws BackendError if the context cannot be made.
  explicit ExceptionRecord(uc_engine* uc);
  ~ExceptionRecord();
  ExceptionRecord(const ExceptionRecord&) = delete;
  ExceptionRecord& operator=(const ExceptionRecord&) = delete;

  // Tells QEMU no exception is in flight (its record to -1): after the interrupt hook
  // took one, and before every uc_emu_start. Usable inside hooks. False (nothing done)
  // where offset() is unknown. Throws BackendError if saving or restoring fails.
  bool clear();

 private:
  uc_engine* uc_;
  uc_context* ctx_ = nullptr;
  // offset(), where this engine's contexts have the scratch engine's layout.
  std::optional<size_t> off_;
};

}  // namespace tdsim::sim
