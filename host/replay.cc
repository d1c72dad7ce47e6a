#include "replay.h"

#include <fmt/format.h>

#include <exception>

#include "registry.h"

namespace tdsim::host {

namespace {

struct Reached {};  // thrown by the sink to end the replay at the fault it was for

const BackendInfo* replayer() {
  for (const BackendInfo& b : backends())
    if (b.caps.register_access && b.caps.in_process_engines && b.unavailable && b.unavailable().empty()) return &b;
  return nullptr;
}

}  // namespace

bool wants_replay(const FaultEvent& fault, bool backend_is_in_process) {
  if (backend_is_in_process) return false;
  for (const std::string& l : fault.explanation)
    if (l.find("cause [") != std::string::npos) return false;
  return true;
}

std::vector<std::string> replay_explanation(const TdImage& image, const FaultEvent& fault, const RunLimits& limits) {
  const BackendInfo* b = replayer();
  if (!b) return {"replay: no backend here can replay the image to explain this fault"};
  std::vector<std::string> out;
  try {
    // The driver hands events to the sink outside the engine's callbacks, so the sink
    // may end the replay by throwing once it has what it came for.
    try {
      b->make_backend({})->run(image, limits, [&](const Event& e) {
        const auto* f = std::get_if<FaultEvent>(&e);
        if (f && f->vcpu == fault.vcpu) {
          out.push_back(fmt::format("replay on {} (the same image, deterministic): {}", b->name, describe(e)));
          for (const std::string& l : f->explanation) out.push_back("  " + l);
          throw Reached{};
        }
        if (vcpu_of(e) == fault.vcpu && is_terminal(e)) {
          out.push_back(fmt::format("replay on {}: vCPU {} ended without a fault there ({}); the difference is "
                                    "the platform's, not the image's",
                                    b->name, fault.vcpu, describe(e)));
          throw Reached{};
        }
      });
      out.push_back(fmt::format("replay on {}: vCPU {} did not fault within the replay's budget", b->name, fault.vcpu));
    } catch (const Reached&) {
    }
  } catch (const std::exception& e) {
    out.assign({fmt::format("replay on {} failed: {}", b->name, e.what())});
  }
  return out;
}

}  // namespace tdsim::host
