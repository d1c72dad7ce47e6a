#include "session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/shared_bit_fold.h"
#include "scheduler.h"
#include "uc_error.h"

namespace tdsim::sim {

namespace {
constexpr uint64_t kPage = 4096;
}

Session::Session(const TdImage& image, uint64_t slice_insns)
    : Session(image, tdx::TdxConfig{}, slice_insns) {}

Session::Session(const TdImage& image, tdx::TdxConfig config, uint64_t slice_insns)
    : image_(image), slice_(slice_insns), mem_(image), tdx_(image, mem_, std::move(config)) {
  if (image.nr_vcpus == 0) throw BackendError("unicorn: image has nr_vcpus 0");
  if (slice_ == 0) throw BackendError("unicorn: scheduling slice of 0 instructions");
  // The VMM's build of the TD: every private page added (and measured) from the memory
  // just loaded, as kvm-tdx adds it; MRTD is what this build accumulated. Before the
  // fold below, which is an engine workaround and not part of the TD's contents.
  tdx_.build_td();
  // Unicorn's TCG faults on a PTE with bit 47 (even 39) set; see core/shared_bit_fold.h.
  fold_shared_bit_in_page_tables(image_, mem_);
  make_vcpus();
  // TDG.MR.REPORT writes into guest memory, possibly over code the engines translated.
  tdx_.set_host_write_observer([this](uint64_t gpa, uint64_t len) { code_written(gpa, len); });
}

void Session::code_written(uint64_t, uint64_t) {
  for (const auto& v : vcpus_) v->request_code_flush();
}

bool Session::write_guest(uint64_t gpa, const void* src, uint64_t len) {
  if (!mem_.write(gpa, src, len)) return false;
  code_written(gpa, len);
  return true;
}

void Session::make_vcpus() {
  vcpus_.clear();
  vcpus_.reserve(image_.nr_vcpus);
  for (uint32_t i = 0; i < image_.nr_vcpus; ++i) {
    vcpus_.push_back(std::make_unique<Vcpu>(i, image_, mem_, tdx_));
    // A firmware's progress is the modules it enters (diag/module_tracker.h).
    if (image_.tdvf) vcpus_.back()->set_module_tracking(true);
    vcpus_.back()->set_trace(trace_);
  }
}

Session::~Session() = default;

std::vector<uint64_t> Session::code_pages_changed_from_image() const {
  std::vector<uint64_t> changed;
  for (const GuestMemory::Block& b : mem_.blocks()) {
    if (b.region->kind != RegionKind::kBootStub && b.region->kind != RegionKind::kGuestElf) continue;
    const std::vector<uint8_t>& orig = b.region->bytes;
    for (uint64_t off = 0; off < b.size; off += kPage) {
      const uint64_t have = orig.size() > off ? std::min<uint64_t>(kPage, orig.size() - off) : 0;
      bool same = std::memcmp(b.host + off, orig.data() + off, have) == 0;
      for (uint64_t i = have; same && i < kPage; ++i) same = b.host[off + i] == 0;
      if (!same) changed.push_back(b.gpa + off);
    }
  }
  return changed;
}

void Session::drop_changed_code(const std::vector<uint64_t>& written) {
  for (const uint64_t gpa : written) {
    const GuestMemory::Block* b = mem_.block_containing(gpa);
    if (!b || (b->region->kind != RegionKind::kBootStub && b->region->kind != RegionKind::kGuestElf)) continue;
    for (const auto& v : vcpus_) {
      v->forget_blocks(gpa, gpa + kPage);
      const uc_err err = uc_ctl_remove_cache(v->engine(), gpa, gpa + kPage);
      if (err != UC_ERR_OK) uc_check(err, fmt::format("uc_ctl_remove_cache({:#x})", gpa).c_str());
    }
  }
}

void Session::reset() {
  // Restoring the saved contexts is enough after a fault too: the exception record QEMU
  // kept across runs is cleared before every uc_emu_start (exception_record.h).
  std::vector<uint64_t> written;
  if (snapshot_) {
    written = snapshot_->restore(mem_);
  } else {
    // The first reset: a session run once (Backend::run) never takes the snapshot. Put
    // the image back the plain way, then take it from memory in its initial state.
    written = code_pages_changed_from_image();
    mem_.reset(image_);
    fold_shared_bit_in_page_tables(image_, mem_);
    snapshot_ = std::make_unique<MemorySnapshot>(mem_);
  }
  drop_changed_code(written);
  for (const auto& v : vcpus_) v->reset();
  tdx_.reset();
  dirty_ = false;
}

void Session::run(const RunLimits& limits, const EventSink& sink) {
  if (dirty_) reset();
  dirty_ = true;
  run_round_robin(vcpus_, limits, slice_, watchdog_, sink);
}

}  // namespace tdsim::sim
