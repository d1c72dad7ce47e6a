// Parameterising a test over the registry's backends by what they can do (never by
// name): the names for ::testing::ValuesIn, and a test-name-safe spelling of each.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "core/event.h"
#include "host/registry.h"

namespace tdsim::test {

// One port write as a backend's io_write hook saw it: port, size, value.
using PortWrite = std::tuple<uint16_t, uint32_t, uint64_t>;

// An io_write hook that appends each write to `out`. The kvm backends call hooks from
// their vCPU threads, so every append holds `m`. Both must outlive the runs.
inline auto record_port_writes(std::vector<PortWrite>& out, std::mutex& m) {
  return [&out, &m](uint32_t, uint16_t port, uint32_t size, uint64_t value) {
    std::lock_guard<std::mutex> g(m);
    out.emplace_back(port, size, value);
  };
}

// The events one per line, indented, for a failing test's trace.
inline std::string dump_events(const std::vector<Event>& events) {
  std::string s;
  for (const Event& e : events) s += "  " + describe(e) + "\n";
  return s;
}

inline std::vector<std::string> backends_with(const std::function<bool(const host::BackendCaps&)>& wanted) {
  std::vector<std::string> names;
  for (const host::BackendInfo& b : host::backends())
    if (wanted(b.caps)) names.push_back(b.name);
  return names;
}

// The registry's backends that can run here (a real TD too where kvm-tdx is available:
// on TDX hardware or under `tdsim exec`), in registry order; `skipped` collects
// "name: why; " for each of the others.
inline std::vector<const host::BackendInfo*> runnable_backends(std::string& skipped) {
  std::vector<const host::BackendInfo*> out;
  for (const host::BackendInfo& b : host::backends()) {
    if (const std::string why = b.unavailable ? b.unavailable() : ""; !why.empty()) {
      skipped += b.name + ": " + why + "; ";
      continue;
    }
    out.push_back(&b);
  }
  return out;
}

// "kvm-tdx" -> "kvm_tdx": GoogleTest names allow only letters, digits and '_'.
inline std::string backend_param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

// A test over one backend, the parameter: skipped, with the reason the registry gives,
// where that backend cannot run on this host.
class OnBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const host::BackendInfo* b = host::find_backend(GetParam());
    ASSERT_NE(b, nullptr) << GetParam();
    if (const std::string why = b->unavailable ? b->unavailable() : ""; !why.empty()) GTEST_SKIP() << why;
  }
};

}  // namespace tdsim::test
