// MRTD: the TD build-time measurement. One running SHA-384 over the TDH.MEM.PAGE.ADD /
// TDH.MR.EXTEND records the TDX module hashes (docs/tdx-abi.md, "MRTD accumulation"):
// MrtdAccumulator is that hash, used both by the prediction from a TdImage here and by the
// platform's TD build (tdx/td_build.h), which accumulates what a backend actually added.
// Depends on core (TdImage, launch_order) and OpenSSL only; knows no backend, and must not:
// the KVM launch plan walks the same launch_page_order(), so both agree by construction.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/td_image.h"

namespace tdsim::measure {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kExtendChunk = 256;   // TDX_EXTENDMR_CHUNKSIZE
inline constexpr size_t kRecordSize = 128;      // one SHA-384 block
inline constexpr size_t kTdReportSize = 1024;
inline constexpr size_t kTdReportMrtdOffset = 512 + 16;  // TDINFO @512, MRTD @TDINFO+16

struct Mrtd {
  std::array<uint8_t, 48> digest{};
  std::string hex() const;  // 96 lowercase hex digits
  // Parses 96 hex digits (either case); throws std::invalid_argument saying what is wrong.
  static Mrtd from_hex(std::string_view hex);
  // The MRTD field of a 1024-byte TDREPORT_STRUCT (byte 528); throws if report is short.
  static Mrtd from_tdreport(std::span<const uint8_t> report);
  friend bool operator==(const Mrtd&, const Mrtd&) = default;
};

using Record = std::array<uint8_t, kRecordSize>;
// The 128-byte TDH.MEM.PAGE.ADD record: "MEM.PAGE.ADD" @0, GPA u64 LE @16, zeros elsewhere.
Record page_add_record(uint64_t gpa);
// The 128-byte header TDH.MR.EXTEND hashes before its 256 chunk bytes: "MR.EXTEND" @0,
// chunk GPA u64 LE @16, zeros elsewhere.
Record mr_extend_header(uint64_t gpa);

class MrtdAccumulator {
 public:
  // Sees every byte range fed to the hash, in order (a test and debugging seam).
  using Tap = std::function<void(std::span<const uint8_t>)>;

  explicit MrtdAccumulator(Tap tap = {});
  ~MrtdAccumulator();
  MrtdAccumulator(MrtdAccumulator&&) noexcept;
  MrtdAccumulator& operator=(MrtdAccumulator&&) noexcept;
  MrtdAccumulator(const MrtdAccumulator&) = delete;
  MrtdAccumulator& operator=(const MrtdAccumulator&) = delete;

  // TDH.MEM.PAGE.ADD of the page at gpa (4 KiB aligned, else std::invalid_argument).
  void page_add(uint64_t gpa);
  // TDH.MR.EXTEND of the 256-byte chunk at gpa (256-byte aligned, else invalid_argument).
  void mr_extend(uint64_t gpa, std::span<const uint8_t, kExtendChunk> chunk);
  // TDH.MR.FINALIZE. Afterwards every call throws std::logic_error.
  Mrtd finalize();

  uint64_t pages_added() const { return pages_added_; }
  uint64_t chunks_extended() const { return chunks_extended_; }

 private:
  struct Ctx;
  void update(std::span<const uint8_t> bytes);
  std::unique_ptr<Ctx> ctx_;
  Tap tap_;
  uint64_t pages_added_ = 0;
  uint64_t chunks_extended_ = 0;
};

// KVM_TDX_INIT_MEM_REGION does PAGE.ADD then the page's 16 MR.EXTENDs, page by page.
// Older QEMU added every page first and extended afterwards; the MRTD differs, and
// third-party calculators model both, so both are offered.
enum class MeasureOrder { kKvmPerPage, kTwoPass };
const char* to_string(MeasureOrder order);  // "kvm-per-page", "two-pass"

// Feeds the image's private pages, in core launch_page_order(), to acc. Shared regions
// never appear; unmeasured private pages only get PAGE.ADD. Throws std::invalid_argument
// naming the region when it cannot be added as is (size not whole pages, bytes > size).
void feed_image(MrtdAccumulator& acc, const TdImage& image,
                MeasureOrder order = MeasureOrder::kKvmPerPage);

Mrtd predict_mrtd(const TdImage& image, MeasureOrder order = MeasureOrder::kKvmPerPage);

}  // namespace tdsim::measure
