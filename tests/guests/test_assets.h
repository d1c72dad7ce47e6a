// Host-side access to the guest ELFs and stub blobs built for tests: their absolute
// paths arrive as compile definitions from the tdsim_test_assets CMake target
// (TDSIM_GUEST_<NAME>_ELF, TDSIM_STUB_<NAME>_BIN). Host code only (gtest, std).
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <vector>

namespace tdsim::test {

// The whole file; on failure records a test failure naming the path and returns {}.
inline std::vector<uint8_t> read_asset(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open test asset " << path << " (was it built?)";
    return {};
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad() || bytes.empty()) {
    ADD_FAILURE() << "cannot read test asset " << path << " (empty or I/O error)";
    return {};
  }
  return bytes;
}

}  // namespace tdsim::test
