#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_kvm_ioctl (fuzz/corpus/fuzz_kvm_ioctl/) in the input format
fuzz/fuzz_kvm_ioctl.cc describes: a whole TD build (KVM_CREATE_VM to KVM_TDX_FINALIZE_VM and
KVM_RUN), the probing a selftest does first, and each ordering violation. Run it from the
repository root after changing the format or the request table."""
import os
import struct

# Indices into kRequests (fuzz/fuzz_kvm_ioctl.cc).
(GET_API_VERSION, CHECK_EXTENSION, GET_VCPU_MMAP_SIZE, GET_SUPPORTED_CPUID, CREATE_VM, CREATE_VCPU, ENABLE_CAP,
 CREATE_IRQCHIP, GET_TSC_KHZ, CREATE_GUEST_MEMFD, SET_USER_MEMORY_REGION, SET_USER_MEMORY_REGION2,
 SET_MEMORY_ATTRIBUTES, MEMORY_ENCRYPT_OP, GET_STATS_FD, SET_CPUID2, GET_CPUID2, SET_MP_STATE, GET_MP_STATE,
 GET_REGS, SET_REGS, GET_SREGS, SET_SREGS, GET_FPU, SET_FPU, RUN) = range(26)
KVM, VM, VCPU, GMEM = range(4)

CMD_AT = 0x100   # where a kvm_tdx_cmd goes in the scratch
DATA_AT = 0x118  # its data struct, right behind it (one contiguous argument)


def call(kind, req, imm=0, off=0, arg=b"", which=0):
    return struct.pack("<BBBQHH", kind, which, req, imm, off, len(arg)) + arg


def tdx_cmd(cmd_id, data, flags=0):
    return struct.pack("<IIQQ", cmd_id, flags, data, 0)


def cpuid_entry(function, index=0, flags=0, eax=0, ebx=0, ecx=0, edx=0):
    return struct.pack("<7I12x", function, index, flags, eax, ebx, ecx, edx)


def init_vm(attributes=0):
    entries = [cpuid_entry(0x80000008, eax=(48 << 16) | 0x3030), cpuid_entry(0xD, 0, 1, eax=0x7)]
    header = struct.pack("<QQ", attributes, 0) + bytes(18 * 8) + bytes(12 * 8) + struct.pack("<II", len(entries), 0)
    return tdx_cmd(1, DATA_AT) + header + b"".join(entries)


def probe():
    return (call(KVM, GET_API_VERSION) + call(KVM, CHECK_EXTENSION, imm=235) + call(KVM, CHECK_EXTENSION, imm=234) +
            call(KVM, GET_VCPU_MMAP_SIZE) + call(KVM, GET_SUPPORTED_CPUID, off=0x800, arg=struct.pack("<II", 256, 0)))


def create_td():
    return (call(KVM, CREATE_VM, imm=5) +
            call(VM, ENABLE_CAP, off=0, arg=struct.pack("<IIQQQQ", 121, 0, 24, 0, 0, 0) + bytes(64)) +
            call(VM, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=tdx_cmd(0, DATA_AT) + bytes(2048) + struct.pack("<II", 64, 0)) +
            call(VM, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=init_vm()))


def build_td():
    slot = struct.pack("<IIQQQQII", 0, 4, 0, 0x8000, 0x8000, 0, 0, 0) + bytes(14 * 8)
    return (create_td() + call(VM, CREATE_VCPU, imm=0) +
            call(VCPU, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=tdx_cmd(2, 0x1234)) +
            call(VM, CREATE_GUEST_MEMFD, off=0, arg=struct.pack("<QQ", 0x8000, 0) + bytes(48)) +
            call(VM, SET_USER_MEMORY_REGION2, off=0, arg=slot) +
            call(VM, SET_MEMORY_ATTRIBUTES, off=0, arg=struct.pack("<QQQQ", 0, 0x8000, 8, 0)) +
            call(VCPU, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=tdx_cmd(3, DATA_AT, 1) + struct.pack("<QQQ", 0x2000, 0, 2)) +
            call(VCPU, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=tdx_cmd(5, DATA_AT) + struct.pack("<II", 64, 0)) +
            call(VCPU, SET_CPUID2, off=0, arg=struct.pack("<II", 1, 0) + cpuid_entry(1, eax=0x806f8)) +
            call(VCPU, GET_CPUID2, off=0, arg=struct.pack("<II", 4, 0)) +
            call(VCPU, SET_MP_STATE, off=0, arg=struct.pack("<I", 0)) + call(VCPU, GET_REGS, off=0) +
            call(VM, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=tdx_cmd(4, 0)) +
            call(VCPU, RUN) + call(VCPU, GET_STATS_FD) + call(VM, GET_STATS_FD))


SEEDS = {
    "probe": probe(),
    "build_td": probe() + build_td(),
    # Ordering violations: a vCPU before INIT_VM, INIT_MEM_REGION before INIT_VCPU,
    # anything after FINALIZE, a second VM next to the first.
    "vcpu_before_init_vm": call(KVM, CREATE_VM, imm=5) + call(VM, CREATE_VCPU, imm=0) + create_td()[len(call(KVM, CREATE_VM, imm=5)):],
    "mem_before_init_vcpu": create_td() + call(VM, CREATE_VCPU, imm=1) +
        call(VCPU, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=tdx_cmd(3, DATA_AT, 1) + struct.pack("<QQQ", 0x2000, 0, 1)),
    "after_finalize": build_td() + call(VM, CREATE_VCPU, imm=2) + call(VM, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=init_vm()),
    "two_vms": create_td() + call(KVM, CREATE_VM, imm=5, which=0x80) + call(VM, MEMORY_ENCRYPT_OP, off=CMD_AT, arg=init_vm(), which=1),
    "raw_request": call(KVM, 0xff) + struct.pack("<I", 0xc008ae05),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_kvm_ioctl")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
