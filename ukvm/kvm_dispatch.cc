#include "kvm_dispatch.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include "capabilities.h"
#include "kvm_objects.h"
#include "notice.h"
#include "td_vcpu.h"
#include "td_vm.h"
#include "user_copy.h"

namespace tdsim::ukvm {

namespace {

namespace t = kvm::tdx;

long get_supported_cpuid(unsigned long arg) {
  t::Cpuid2Header h{};
  if (const int err = read_user(h, arg)) return err;
  const auto entries = supported_cpuid();
  if (h.nent < entries.size()) return -E2BIG;
  h.nent = static_cast<uint32_t>(entries.size());
  if (const int err = copy_to_user(arg + sizeof h, entries.data(), entries.size() * sizeof entries[0])) return err;
  return write_user(arg, h);
}

long system_ioctl(unsigned long request, unsigned long arg) {
  switch (request) {
    case KVM_GET_API_VERSION: return arg ? -EINVAL : kApiVersion;
    case KVM_CHECK_EXTENSION: return check_extension(static_cast<long>(arg), false);
    case KVM_GET_VCPU_MMAP_SIZE: return arg ? -EINVAL : kVcpuMmapSize;
    case t::kKvmGetSupportedCpuid: return get_supported_cpuid(arg);
    case KVM_CREATE_VM: return create_vm(arg);
    default: return unimplemented("/dev/kvm", request, ENOTTY);
  }
}

}  // namespace

int open_kvm(int flags) {
  try {
    std::lock_guard<std::mutex> lock(kvm_lock());
    const int fd = new_object_fd("kvm", 0, KvmObject{KvmObject::Kind::kSystem, {}, {}, {}}, false);
    if (fd >= 0 && !(flags & O_CLOEXEC)) fcntl(fd, F_SETFD, 0);  // as the program asked
    return fd;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

int open_text(const std::string& contents) {
  const int fd = memfd_create("kvm-param", MFD_CLOEXEC);
  if (fd < 0) return -errno;
  if (write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size()) || lseek(fd, 0, SEEK_SET) != 0) {
    const int err = errno ? errno : EIO;
    close(fd);
    return -err;
  }
  return fd;
}

bool owns_fd(int fd) {
  std::lock_guard<std::mutex> lock(kvm_lock());
  return lookup(fd).has_value();
}

long kvm_ioctl(int fd, unsigned long request, unsigned long arg) {
  try {
    std::shared_ptr<TdVcpu> vcpu;
    {
      std::lock_guard<std::mutex> lock(kvm_lock());
      const std::optional<KvmObject> obj = lookup(fd);
      if (!obj) return -EBADF;
      switch (obj->kind) {
        case KvmObject::Kind::kSystem: return system_ioctl(request, arg);
        case KvmObject::Kind::kVm: return obj->vm->ioctl(request, arg);
        case KvmObject::Kind::kVcpu:
          if (request != KVM_RUN) return obj->vcpu->ioctl(request, arg);
          vcpu = obj->vcpu;
          break;
        case KvmObject::Kind::kGuestMemfd:
        case KvmObject::Kind::kStats: return unimplemented(kind_name(obj->kind), request, ENOTTY);
      }
    }
    return vcpu->run();  // outside the lock: another vCPU may run or be set up meanwhile
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (const std::exception& e) {
    notice(ioctl_name(request) + ": internal error: " + e.what());
    return -EIO;
  }
}

std::optional<measure::Mrtd> td_mrtd(int fd) {
  std::lock_guard<std::mutex> lock(kvm_lock());
  const std::optional<KvmObject> obj = lookup(fd);
  if (!obj || obj->kind != KvmObject::Kind::kVm || !obj->vm->build()) return std::nullopt;
  return obj->vm->build()->mrtd();
}

}  // namespace tdsim::ukvm
