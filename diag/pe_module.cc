#include "pe_module.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace tdsim::diag {

namespace {

// Layouts from the PE/COFF specification and edk2's TE header (PI spec, "TE Image").
constexpr uint16_t kMz = 0x5a4d;           // "MZ"
constexpr uint16_t kTe = 0x5a56;           // "VZ"
constexpr uint32_t kPe = 0x00004550;       // "PE\0\0"
constexpr uint16_t kPe32Magic = 0x10b, kPe32PlusMagic = 0x20b;
constexpr uint32_t kDebugTypeCodeView = 2;
constexpr uint32_t kRsds = 0x53445352;     // "RSDS"
constexpr uint32_t kNb10 = 0x3031424e;     // "NB10"
constexpr uint32_t kTeHeaderSize = 40;
constexpr uint64_t kMaxImage = 64ull << 20;  // no firmware module is larger
constexpr size_t kMaxPath = 260;
constexpr size_t kHeaderBytes = 0x1000;  // where a fingerprint's headers must lie
constexpr size_t kSectionHeader = 40;

template <class T>
bool load(std::span<const uint8_t> b, size_t at, T& out) {
  if (at > b.size() || sizeof out > b.size() - at) return false;
  std::memcpy(&out, b.data() + at, sizeof out);
  return true;
}

struct Reader {
  const GuestMemory& mem;
  const TdImage& image;
  const LinearView& view;
  template <class T>
  bool get(uint64_t la, T& out) const {
    return read_linear(mem, image, view, la, &out, sizeof out);
  }
};

// The file name of a CodeView path ("/build/.../SecMain.dll" -> "SecMain").
std::string module_name(const Reader& r, uint64_t la) {
  std::string path;
  for (size_t i = 0; i < kMaxPath; ++i) {
    char c = 0;
    if (!r.get(la + i, c) || c == 0) break;
    path.push_back(c);
  }
  const size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base;
}

// The CodeView name behind a debug directory at `dir` (`dir_size` bytes); `rva_to_la`
// maps an RVA to a linear address.
template <class F>
std::string codeview_name(const Reader& r, uint64_t dir, uint32_t dir_size, F rva_to_la) {
  constexpr uint32_t kEntry = 28;
  for (uint32_t off = 0; off + kEntry <= dir_size && off < 16 * kEntry; off += kEntry) {
    uint32_t type = 0, rva = 0;
    if (!r.get(dir + off + 12, type) || !r.get(dir + off + 20, rva)) return {};
    if (type != kDebugTypeCodeView || rva == 0) continue;
    const uint64_t cv = rva_to_la(rva);
    uint32_t sig = 0;
    if (!r.get(cv, sig)) return {};
    if (sig == kRsds) return module_name(r, cv + 24);  // RSDS, GUID, age
    if (sig == kNb10) return module_name(r, cv + 16);  // NB10, offset, time, age
  }
  return {};
}

// An image still in its firmware volume sits in an FFS file's PE32 (0x10) or TE (0x12)
// section; the file's user-interface section (0x15, UTF-16) names the module, and
// release builds keep it where they drop the debug directory (PI spec, vol. 3, "Firmware
// File Sections").
std::string ffs_ui_name(const Reader& r, uint64_t base) {
  uint32_t hdr = 0;
  if (base < 4 || !r.get(base - 4, hdr)) return {};
  const uint32_t type = hdr >> 24, size = hdr & 0xffffff;
  if ((type != 0x10 && type != 0x12) || size <= 4) return {};
  uint64_t sec = base - 4;
  for (int i = 0; i < 4; ++i) {
    uint32_t h = 0;
    if (!r.get(sec, h)) return {};
    const uint32_t sz = h & 0xffffff;
    if (sz < 4) return {};
    sec = (sec + sz + 3) & ~3ull;
    if (!r.get(sec, h)) return {};
    if ((h >> 24) != 0x15) continue;
    std::string name;
    const uint32_t chars = std::min<uint32_t>(((h & 0xffffff) - 4) / 2, 128);
    for (uint32_t c = 0; c < chars; ++c) {
      uint16_t u = 0;
      if (!r.get(sec + 4 + 2 * c, u) || u == 0) break;
      name.push_back(u >= 0x20 && u < 0x7f ? static_cast<char>(u) : '?');
    }
    while (!name.empty() && name.back() == ' ') name.pop_back();
    return name;
  }
  return {};
}

std::optional<PeModule> pe_at(const Reader& r, uint64_t base, uint64_t addr) {
  uint32_t lfanew = 0, pe = 0;
  uint16_t magic = 0;
  if (!r.get(base + 0x3c, lfanew) || lfanew < 0x40 || lfanew > 0x1000) return std::nullopt;
  const uint64_t nt = base + lfanew;
  if (!r.get(nt, pe) || pe != kPe || !r.get(nt + 24, magic)) return std::nullopt;
  if (magic != kPe32Magic && magic != kPe32PlusMagic) return std::nullopt;
  const uint64_t opt = nt + 24;
  uint32_t size_of_image = 0, nr_dirs = 0;
  if (!r.get(opt + 56, size_of_image) || size_of_image == 0 || size_of_image > kMaxImage) return std::nullopt;
  if (addr - base >= size_of_image) return std::nullopt;
  PeModule m{base, size_of_image, {}, false};
  const uint64_t dirs = opt + (magic == kPe32PlusMagic ? 112 : 96);
  if (r.get(dirs - 4, nr_dirs) && nr_dirs > 6) {
    uint32_t rva = 0, size = 0;
    if (r.get(dirs + 6 * 8, rva) && r.get(dirs + 6 * 8 + 4, size) && rva && rva < size_of_image)
      m.name = codeview_name(r, base + rva, size, [&](uint32_t x) { return base + x; });
  }
  if (m.name.empty()) m.name = ffs_ui_name(r, base);
  if (m.name.empty() && !r.image.module_names.empty()) {
    // Loaded from a compressed volume: the firmware file's catalog knows its headers.
    std::vector<uint8_t> headers(kHeaderBytes);
    if (read_linear(r.mem, r.image, r.view, base, headers.data(), headers.size()))
      if (const std::optional<std::string> fp = pe_fingerprint(headers))
        if (auto it = r.image.module_names.find(*fp); it != r.image.module_names.end()) m.name = it->second;
  }
  return m;
}

std::optional<PeModule> te_at(const Reader& r, uint64_t base, uint64_t addr) {
  uint8_t nr_sections = 0;
  uint16_t stripped = 0;
  if (!r.get(base + 4, nr_sections) || !r.get(base + 6, stripped)) return std::nullopt;
  if (nr_sections == 0 || nr_sections > 96 || stripped < kTeHeaderSize) return std::nullopt;
  // RVAs count from the original PE header; the TE header stands in for its first
  // `stripped` bytes.
  const auto rva_to_la = [&](uint32_t rva) { return base + rva - stripped + kTeHeaderSize; };
  uint64_t end = 0;
  for (uint8_t i = 0; i < nr_sections; ++i) {
    uint32_t vsize = 0, va = 0;
    const uint64_t sh = base + kTeHeaderSize + 40ull * i;
    if (!r.get(sh + 8, vsize) || !r.get(sh + 12, va)) return std::nullopt;
    end = std::max<uint64_t>(end, uint64_t{va} + vsize);
  }
  if (end < stripped) return std::nullopt;
  const uint64_t size = end - stripped + kTeHeaderSize;
  if (size > kMaxImage || addr - base >= size) return std::nullopt;
  PeModule m{base, size, {}, true};
  uint32_t dbg_rva = 0, dbg_size = 0;
  if (r.get(base + 32, dbg_rva) && r.get(base + 36, dbg_size) && dbg_rva >= stripped)
    m.name = codeview_name(r, rva_to_la(dbg_rva), dbg_size, rva_to_la);
  if (m.name.empty()) m.name = ffs_ui_name(r, base);
  return m;
}

}  // namespace

std::optional<PeModule> find_pe_module(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                                       uint64_t addr, uint64_t max_scan) {
  const Reader r{mem, image, view};
  const uint64_t lowest = addr > max_scan ? addr - max_scan : 0;
  // A page at a time (one translation each), offsets downwards from `addr`.
  uint8_t page[4096];
  for (uint64_t pg = addr & ~0xfffull;; pg -= 0x1000) {
    if (read_linear(mem, image, view, pg, page, sizeof page)) {
      // Sections in a firmware volume are 4-byte aligned, and so is an image in one.
      const uint64_t top = pg == (addr & ~0xfffull) ? (addr & 0xffc) : 0xffc;
      for (uint64_t off = top;; off -= 4) {
        uint16_t sig;
        std::memcpy(&sig, page + off, 2);
        std::optional<PeModule> m;
        if (sig == kMz) m = pe_at(r, pg + off, addr);
        else if (sig == kTe) m = te_at(r, pg + off, addr);
        if (m) return m;
        if (off == 0) break;
      }
    }
    if (pg < lowest + 0x1000 || pg == 0) break;
  }
  return std::nullopt;
}

std::optional<std::string> pe_fingerprint(std::span<const uint8_t> b) {
  uint16_t mz = 0, magic = 0, nsections = 0, opt_size = 0;
  uint32_t lfanew = 0, pe = 0, entry = 0, size_of_image = 0;
  if (!load(b, 0, mz) || mz != kMz || !load(b, 0x3c, lfanew) || lfanew < 0x40 || lfanew > kHeaderBytes)
    return std::nullopt;
  const size_t nt = lfanew, file = nt + 4, opt = nt + 24;
  if (!load(b, nt, pe) || pe != kPe || !load(b, file + 2, nsections) || !load(b, file + 16, opt_size) ||
      !load(b, opt, magic) || (magic != kPe32Magic && magic != kPe32PlusMagic) || !load(b, opt + 16, entry) ||
      !load(b, opt + 56, size_of_image))
    return std::nullopt;
  const size_t sections = opt + opt_size, table = size_t{nsections} * kSectionHeader;
  if (nsections == 0 || sections > b.size() || table > b.size() - sections) return std::nullopt;
  std::string fp = fmt::format("{:08x}.{:08x}.", entry, size_of_image);
  for (size_t i = file; i < file + 20; ++i) fp += fmt::format("{:02x}", b[i]);
  fp += '.';
  for (size_t i = sections; i < sections + table; ++i) fp += fmt::format("{:02x}", b[i]);
  return fp;
}

std::string describe_pe_address(const PeModule& m, uint64_t addr) {
  if (m.name.empty()) return fmt::format("{} image at {:#x}+{:#x}", m.te ? "TE" : "PE", m.base, addr - m.base);
  return fmt::format("{}+{:#x}", m.name, addr - m.base);
}

}  // namespace tdsim::diag
