#include "td_initial_state.h"

namespace tdsim {

TdInitialVcpuState td_initial_vcpu_state(const TdImage& image, uint32_t index, uint64_t cpuid1_eax) {
  TdInitialVcpuState s;
  s.rbx = image.gpaw;
  s.rcx = image.init_rcx;
  s.r8 = image.init_rcx;
  s.rdx = cpuid1_eax;
  s.rsi = index;
  return s;
}

}  // namespace tdsim
