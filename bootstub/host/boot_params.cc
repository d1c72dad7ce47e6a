#include "bootstub/host/boot_params.h"

#include <cstring>

namespace tdsim {

std::vector<uint8_t> params_page_bytes(const abi::TdBootParams& boot,
                                       const std::vector<abi::TdPerVcpuParams>& per_vcpu) {
  std::vector<uint8_t> out(4096, 0);
  std::memcpy(out.data(), &boot, sizeof boot);
  for (size_t i = 0; i < per_vcpu.size(); ++i)
    std::memcpy(out.data() + abi::kTdPerVcpuOffset + i * sizeof(abi::TdPerVcpuParams), &per_vcpu[i],
                sizeof(abi::TdPerVcpuParams));
  return out;
}

std::vector<uint8_t> stub_page_bytes(std::span<const uint8_t> stub) {
  std::vector<uint8_t> out(4096, 0);
  const uint64_t reset_off = abi::kResetVector - kStubPageGpa;
  std::memcpy(out.data() + reset_off - stub.size(), stub.data(), stub.size());
  // JMP rel8 is relative to the end of its 2 bytes (0xfffffff2); the displacement
  // -(size + 2) is stored as the byte 256 - 2 - size.
  out[reset_off] = abi::kJmpRel8Opcode;
  out[reset_off + 1] = static_cast<uint8_t>(256 - 2 - stub.size());
  out[reset_off + 2] = abi::kInt3Opcode;
  return out;
}

}  // namespace tdsim
