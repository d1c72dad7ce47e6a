// Runs a hostile guest on a backend and picks events out of the stream: the shared
// plumbing of the hostile-guest and resource-hygiene tests. Host test code only.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/backend.h"

namespace tdsim::hostiletest {

enum class Engine { kUnicorn, kKvm };
std::unique_ptr<Backend> make_backend(Engine e);
// GTEST_SKIP reason when `e` cannot run here, else "".
std::string unavailable(Engine e);

LayoutSpec spec_for(const char* elf_path, uint32_t nr_vcpus = 1);
std::vector<Event> run(Engine e, const TdImage& image, uint64_t max_insns = 50'000'000);

std::string dump(const std::vector<Event>& events);

template <class T>
std::vector<T> all_of(const std::vector<Event>& events) {
  std::vector<T> out;
  for (const Event& e : events)
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  return out;
}

// The terminal event of `vcpu` (the last event naming it), or nullptr.
const Event* last_of_vcpu(const std::vector<Event>& events, uint32_t vcpu);

}  // namespace tdsim::hostiletest
