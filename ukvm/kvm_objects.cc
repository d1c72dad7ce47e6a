#include "kvm_objects.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <utility>

namespace tdsim::ukvm {

namespace {

using Key = std::pair<dev_t, ino_t>;

// Never destroyed: an exiting program may still issue ioctls from atexit handlers.
std::map<Key, KvmObject>& registry() {
  static auto* r = new std::map<Key, KvmObject>;
  return *r;
}
std::atomic<bool> g_any{false};

}  // namespace

const char* kind_name(KvmObject::Kind k) {
  switch (k) {
    case KvmObject::Kind::kSystem: return "/dev/kvm";
    case KvmObject::Kind::kVm: return "VM";
    case KvmObject::Kind::kVcpu: return "vCPU";
    case KvmObject::Kind::kGuestMemfd: return "guest_memfd";
    case KvmObject::Kind::kStats: return "stats";
  }
  return "?";
}

std::mutex& kvm_lock() {
  static auto* m = new std::mutex;
  return *m;
}

int new_memfd(const char* name, uint64_t size, bool seal) {
  const int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  if ((size && ftruncate(fd, static_cast<off_t>(size)) != 0) ||
      (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)) {
    const int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

int register_object(int fd, KvmObject object) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return -errno;
  registry()[{st.st_dev, st.st_ino}] = std::move(object);
  g_any.store(true, std::memory_order_release);
  return 0;
}

int new_object_fd(const char* name, uint64_t size, KvmObject object, bool seal) {
  const int fd = new_memfd(name, size, seal);
  if (fd < 0) return fd;
  if (const int err = register_object(fd, std::move(object)); err < 0) {
    close(fd);
    return err;
  }
  return fd;
}

GuestMemfd::~GuestMemfd() { munmap(map, size); }

int seal_future_writes(int fd) { return fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0 ? 0 : -errno; }

std::optional<KvmObject> lookup(int fd) {
  if (!g_any.load(std::memory_order_acquire)) return std::nullopt;
  struct stat st {};
  if (fstat(fd, &st) != 0) return std::nullopt;
  auto it = registry().find({st.st_dev, st.st_ino});
  if (it == registry().end()) return std::nullopt;
  return it->second;
}

void forget_all_objects() {
  std::map<Key, KvmObject> gone;
  {
    std::lock_guard<std::mutex> lock(kvm_lock());
    gone.swap(registry());
    g_any.store(false, std::memory_order_release);
  }
  // `gone` is destroyed here, outside the lock: a VM's destruction takes no lock, but a
  // vCPU's engine may take its time.
}

}  // namespace tdsim::ukvm
