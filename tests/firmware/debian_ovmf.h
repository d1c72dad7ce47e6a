// Debian's OVMF builds the firmware tests read and boot, both put in place by
// scripts/install-deps.sh: trixie's (edk2 2025.02, 4 MiB) as the installed `ovmf`
// package, and bookworm's (edk2 2022.11, 2 MiB) unpacked beside it for the tests that pin
// its NO_RBP_MOD limit (docs/firmware.md). The two are told apart by size; a test whose
// build is missing skips and says how to get it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace debian_ovmf {

inline constexpr const char* kTrixieOvmf = "/usr/share/ovmf/OVMF.fd";
inline constexpr uint64_t kTrixieOvmfSize = 4ull << 20;
inline constexpr const char* kBookwormOvmf = TDSIM_BOOKWORM_OVMF;
inline constexpr uint64_t kBookwormOvmfSize = 2ull << 20;

// Empty when `path` is there with `size` bytes; else why a test cannot use it.
inline std::string ovmf_missing(const char* path, uint64_t size) {
  std::error_code ec;
  const auto have = std::filesystem::file_size(path, ec);
  if (ec) return std::string(path) + " missing: scripts/install-deps.sh puts Debian's OVMF there";
  if (have != size)
    return std::string(path) + " is " + std::to_string(have) + " bytes, not the " + std::to_string(size) +
           "-byte build this test pins: scripts/install-deps.sh installs the right one";
  return {};
}

inline std::vector<uint8_t> read_file_bytes(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace debian_ovmf
