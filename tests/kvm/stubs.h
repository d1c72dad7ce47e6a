// The assembled test stub pages (tests/kvm/asm/*.S), embedded at build time.
#pragma once
#define TDSIM_KVM_STUB(name)                              \
  extern const unsigned char kvm_stub_##name[];           \
  extern const unsigned long kvm_stub_##name##_size;
TDSIM_KVM_STUB(state32)
TDSIM_KVM_STUB(long64)
TDSIM_KVM_STUB(tdcall)
TDSIM_KVM_STUB(triple)
TDSIM_KVM_STUB(hlt)
TDSIM_KVM_STUB(loop)
TDSIM_KVM_STUB(pio)
TDSIM_KVM_STUB(ucall_loop)
TDSIM_KVM_STUB(mmio_read)
#undef TDSIM_KVM_STUB
#define TDSIM_STUB(name) kvm_stub_##name, kvm_stub_##name##_size
