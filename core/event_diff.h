// Compares two runs of one image on different backends. vCPUs interleave differently
// on each backend, so streams are compared per vCPU: the ucalls (command, arguments,
// text, assert location) in order, then how each vCPU ended (a fault's vector, RIP,
// error code and whether it was a triple fault; a halt's RIP), then the run's outcome.
// Slot addresses and engine details (fault wording, explanations, timing) are not
// compared; a vector or error code one backend cannot know (-1: a shutdown seen only
// as KVM_EXIT_SHUTDOWN) is not held against the other.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "event.h"

namespace tdsim {

struct Divergence {
  std::optional<uint32_t> vcpu;  // empty: the outcome differs
  size_t index = 0;              // position in that vCPU's ucall sequence
  std::string left, right;       // what each side had there ("(nothing)" if it ended)
};

std::optional<Divergence> first_divergence(const std::vector<Event>& left,
                                           const std::vector<Event>& right, uint32_t nr_vcpus);

}  // namespace tdsim
